"""The added tokens of DeepSeek-Coder's tokenizer, named once for the tokenizer, trainer and evals.

DeepSeek-Coder §3.2: the released tokenizer has 32,000 byte-level BPE tokens, then the 13 bytes
that never occur in UTF-8 (ids 32000-32012), then these nine tokens (ids 32013-32021). The bars
in the sentence and FIM sentinels are full-width (U+FF5C, written ``\\uff5c`` here) and the
underscores U+2581 (``\\u2581``); the chat tokens use ASCII bars.

>>> SPECIAL_TOKENS.index(FIM_BEGIN), len(FIM_BEGIN), FIM_BEGIN.encode("utf-8")[:4]
(3, 13, b'<\\xef\\xbd\\x9c')
"""

from __future__ import annotations

BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>"
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
FIM_HOLE = "<\uff5cfim\u2581hole\uff5c>"  # PSM: between prefix and suffix
FIM_BEGIN = "<\uff5cfim\u2581begin\uff5c>"  # starts an infilling document
FIM_END = "<\uff5cfim\u2581end\uff5c>"  # after the suffix; the middle follows
PAD = "<pad>"
USER = "<|User|>"
ASSISTANT = "<|Assistant|>"
EOT = "<|EOT|>"  # ends each chat turn

#: In the released id order (32013, 32014, ...).
SPECIAL_TOKENS: tuple[str, ...] = (
    BOS,
    EOS,
    FIM_HOLE,
    FIM_BEGIN,
    FIM_END,
    PAD,
    USER,
    ASSISTANT,
    EOT,
)

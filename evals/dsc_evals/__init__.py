"""dsc_evals: sandboxed execution, pass@k and the DeepSeek-Coder paper's benchmarks."""

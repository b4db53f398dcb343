//! Strongly connected components by Tarjan's algorithm, iterative: an import chain thousands
//! of files long must not overflow the call stack.

/// The component of every node of the graph whose out-edges `dependents(v)` lists.
///
/// Components are numbered in the order Tarjan's algorithm completes them; only "same number
/// or not" matters to callers.
pub(super) fn components<'g>(num_nodes: usize, dependents: impl Fn(u32) -> &'g [u32]) -> Vec<u32> {
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; num_nodes];
    let mut low = vec![0u32; num_nodes];
    let mut on_stack = vec![false; num_nodes];
    let mut component = vec![UNSEEN; num_nodes];
    let mut stack: Vec<u32> = Vec::new();
    // The depth-first path: each node with the position of its next out-edge to visit.
    let mut path: Vec<(u32, usize)> = Vec::new();
    let (mut next_index, mut next_component) = (0u32, 0u32);
    for root in 0..num_nodes as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        path.push((root, 0));
        while let Some(&mut (node, ref mut next_edge)) = path.last_mut() {
            let v = node as usize;
            if *next_edge == 0 && index[v] == UNSEEN {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(node);
                on_stack[v] = true;
            }
            let edges = dependents(node);
            if let Some(&w) = edges.get(*next_edge) {
                *next_edge += 1;
                if index[w as usize] == UNSEEN {
                    path.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v] = low[v].min(index[w as usize]);
                }
                continue;
            }
            path.pop();
            if let Some(&(parent, _)) = path.last() {
                low[parent as usize] = low[parent as usize].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component[w as usize] = next_component;
                    if w == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(num_nodes: usize, adjacency: &[&[u32]]) -> Vec<u32> {
        components(num_nodes, |v| adjacency[v as usize])
    }

    #[test]
    fn cycles_share_a_component_and_a_chain_does_not() {
        // 0 -> 1 -> 2 -> 0 is a cycle; 2 -> 3 leaves it; 4 is alone.
        let c = of(5, &[&[1], &[2], &[0, 3], &[], &[]]);
        assert!(c[0] == c[1] && c[1] == c[2]);
        assert!(c[3] != c[0] && c[4] != c[0] && c[3] != c[4]);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 1_000_000u32;
        let next: Vec<[u32; 1]> = (0..n).map(|i| [(i + 1) % n]).collect();
        let c = components(n as usize, |v| &next[v as usize]);
        assert!(c.iter().all(|&k| k == c[0]));
    }
}

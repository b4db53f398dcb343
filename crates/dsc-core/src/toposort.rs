//! Algorithm 1 of DeepSeek-Coder: a topological sort that never stalls on cycles.
//!
//! The graph is split into weakly connected subgraphs; in each, the not-yet-emitted node with
//! the smallest current in-degree is emitted next (ties to the smaller node id, which callers
//! make the path order), and the in-degrees of its dependents drop by one. On a DAG this is a
//! topological order; inside a cycle, the node with the fewest unmet dependencies goes first.
//!
//! A binary heap with lazy deletion keeps it at O((V + E) log V): each in-degree change pushes
//! a fresh entry, and popped entries that are stale or already emitted are skipped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Orders `0..num_nodes` given `edges` as `(dependency, dependent)` pairs.
///
/// Returns one node list per weakly connected subgraph, subgraphs ordered by their smallest
/// node. Self-loops and repeated edges count once (a file importing a file twice depends on
/// it once). Edges naming nodes `>= num_nodes` are an error of the caller and are ignored.
pub fn order_subgraphs(num_nodes: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut edges: Vec<(u32, u32)> = edges
        .iter()
        .copied()
        .filter(|&(a, b)| a != b && (a as usize) < num_nodes && (b as usize) < num_nodes)
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let graph = Csr::new(num_nodes, &edges);
    let mut in_degree = graph.in_degree.clone();
    let mut emitted = vec![false; num_nodes];
    subgraphs(num_nodes, &edges)
        .iter()
        .map(|nodes| min_in_degree_order(&graph, nodes, &mut in_degree, &mut emitted))
        .collect()
}

/// Out-edges in compressed sparse rows, plus every node's in-degree.
struct Csr {
    starts: Vec<usize>,
    targets: Vec<u32>,
    in_degree: Vec<u32>,
}

impl Csr {
    /// `edges` must be sorted by source.
    fn new(num_nodes: usize, edges: &[(u32, u32)]) -> Self {
        let mut starts = vec![0usize; num_nodes + 1];
        let mut in_degree = vec![0u32; num_nodes];
        for &(a, b) in edges {
            starts[a as usize + 1] += 1;
            in_degree[b as usize] += 1;
        }
        for i in 0..num_nodes {
            starts[i + 1] += starts[i];
        }
        let targets = edges.iter().map(|&(_, b)| b).collect();
        Csr {
            starts,
            targets,
            in_degree,
        }
    }

    fn dependents(&self, node: u32) -> &[u32] {
        &self.targets[self.starts[node as usize]..self.starts[node as usize + 1]]
    }
}

/// Weakly connected components by union-find, each sorted, ordered by smallest node.
fn subgraphs(num_nodes: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut parent: Vec<u32> = (0..num_nodes as u32).collect();
    for &(a, b) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        // The smaller root wins, so a component's root is its smallest node.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
    let mut slot = vec![u32::MAX; num_nodes];
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for node in 0..num_nodes as u32 {
        let root = find(&mut parent, node) as usize;
        if slot[root] == u32::MAX {
            slot[root] = groups.len() as u32;
            groups.push(Vec::new());
        }
        groups[slot[root] as usize].push(node);
    }
    groups
}

fn find(parent: &mut [u32], mut node: u32) -> u32 {
    while parent[node as usize] != node {
        let grandparent = parent[parent[node as usize] as usize];
        parent[node as usize] = grandparent; // path halving
        node = grandparent;
    }
    node
}

/// Algorithm 1 on one subgraph. `in_degree` and `emitted` are indexed by node and shared by
/// all subgraphs: an edge never leaves its subgraph, so they never interfere.
fn min_in_degree_order(
    graph: &Csr,
    nodes: &[u32],
    in_degree: &mut [u32],
    emitted: &mut [bool],
) -> Vec<u32> {
    let mut heap: BinaryHeap<Reverse<(u32, u32)>> = nodes
        .iter()
        .map(|&n| Reverse((in_degree[n as usize], n)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((degree, node))) = heap.pop() {
        if emitted[node as usize] || in_degree[node as usize] != degree {
            continue; // stale entry: the node was emitted or its in-degree dropped since
        }
        emitted[node as usize] = true;
        order.push(node);
        for &dependent in graph.dependents(node) {
            let d = dependent as usize;
            if !emitted[d] {
                in_degree[d] -= 1;
                heap.push(Reverse((in_degree[d], dependent)));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dag_is_ordered_dependencies_first() {
        // 2 -> 0 -> 1: node 2 has no dependencies, node 1 depends on 0.
        assert_eq!(order_subgraphs(3, &[(2, 0), (0, 1)]), vec![vec![2, 0, 1]]);
    }

    #[test]
    fn ties_go_to_the_smaller_node() {
        assert_eq!(order_subgraphs(3, &[(2, 1), (0, 1)]), vec![vec![0, 2, 1]]);
    }

    #[test]
    fn cycles_emit_every_node_once_starting_at_the_least_dependent() {
        // 0 <-> 1 cycle, 1 also depends on 2; 3 depends on 0.
        let order = order_subgraphs(4, &[(0, 1), (1, 0), (2, 1), (0, 3)]);
        // In-degrees: 0:1, 1:2, 2:0, 3:1. Emit 2 (0); then 0 (1) and 1 (1) tie -> 0;
        // then 1 (0) and 3 (0) tie -> 1, then 3.
        assert_eq!(order, vec![vec![2, 0, 1, 3]]);
    }

    #[test]
    fn disconnected_subgraphs_are_ordered_separately_by_smallest_node() {
        let order = order_subgraphs(5, &[(4, 1), (3, 2)]);
        assert_eq!(order, vec![vec![0], vec![4, 1], vec![3, 2]]);
    }

    #[test]
    fn self_loops_repeats_and_out_of_range_edges_are_ignored() {
        let order = order_subgraphs(2, &[(1, 1), (1, 0), (1, 0), (0, 7)]);
        assert_eq!(order, vec![vec![1, 0]]);
    }

    #[test]
    fn a_full_cycle_still_emits_everything() {
        let n = 50u32;
        let edges: Vec<(u32, u32)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
        let order = order_subgraphs(n as usize, &edges);
        assert_eq!(order.len(), 1);
        assert_eq!(order[0], (0..n).collect::<Vec<_>>());
    }
}

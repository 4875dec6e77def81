//! The browser tree: connections → catalog levels → tables → columns, loaded lazily by the
//! worker. Nodes being loaded show a spinner; `/` filters what is loaded.

use crate::model::catalog::{CatalogNode, CatalogPath, NodeAction, NodeKind};

#[derive(Debug, Clone, PartialEq)]
pub enum Children {
    NotLoaded,
    Loading,
    Loaded(Vec<TreeNode>),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    pub name: String,
    /// None for a connection root.
    pub kind: Option<NodeKind>,
    pub detail: Option<String>,
    pub connection: String,
    pub path: CatalogPath,
    pub expanded: bool,
    pub expandable: bool,
    pub children: Children,
    pub query: Option<String>,
    pub action: Option<NodeAction>,
}

impl TreeNode {
    pub fn connection_root(name: &str, detail: String) -> Self {
        TreeNode {
            name: name.to_string(),
            kind: None,
            detail: Some(detail),
            connection: name.to_string(),
            path: Vec::new(),
            expanded: false,
            expandable: true,
            children: Children::NotLoaded,
            query: None,
            action: None,
        }
    }

    /// A connection the config could not load: marked broken, its error where children go.
    pub fn broken_connection_root(name: &str, error: &str) -> Self {
        TreeNode {
            detail: Some("broken".to_string()),
            children: Children::Failed(format!("broken in the config: {error}")),
            ..TreeNode::connection_root(name, String::new())
        }
    }

    fn from_catalog(connection: &str, parent: &CatalogPath, node: CatalogNode) -> Self {
        let mut path = parent.clone();
        path.push(node.name.clone());
        TreeNode {
            name: node.name,
            kind: Some(node.kind),
            detail: node.detail,
            connection: connection.to_string(),
            path,
            expanded: false,
            expandable: node.has_children,
            children: Children::NotLoaded,
            query: node.query,
            action: node.action,
        }
    }
}

/// One visible line of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub depth: usize,
    /// Index path from the roots to the node.
    pub at: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct BrowserState {
    pub roots: Vec<TreeNode>,
    pub selected: usize,
    pub top: usize,
    pub filter: String,
}

impl BrowserState {
    pub fn node(&self, at: &[usize]) -> Option<&TreeNode> {
        let (first, rest) = at.split_first()?;
        let mut node = self.roots.get(*first)?;
        for i in rest {
            match &node.children {
                Children::Loaded(c) => node = c.get(*i)?,
                _ => return None,
            }
        }
        Some(node)
    }

    pub fn node_mut(&mut self, at: &[usize]) -> Option<&mut TreeNode> {
        let (first, rest) = at.split_first()?;
        let mut node = self.roots.get_mut(*first)?;
        for i in rest {
            match &mut node.children {
                Children::Loaded(c) => node = c.get_mut(*i)?,
                _ => return None,
            }
        }
        Some(node)
    }

    /// The lines shown, honouring expansion and the filter (a node shows when its name or a
    /// loaded descendant's matches; matches inside collapsed nodes expand the view to them).
    pub fn rows(&self) -> Vec<Row> {
        let needle = self.filter.to_lowercase();
        let mut out = Vec::new();
        for (i, root) in self.roots.iter().enumerate() {
            push_rows(root, vec![i], 0, &needle, &mut out);
        }
        out
    }

    pub fn selected_row(&self) -> Option<Row> {
        self.rows().get(self.selected).cloned()
    }

    /// Finds the node a `Children` answer is for, when it is still waiting for one.
    pub fn find_loading(&mut self, connection: &str, path: &CatalogPath) -> Option<&mut TreeNode> {
        fn walk<'a>(
            nodes: &'a mut [TreeNode],
            connection: &str,
            path: &CatalogPath,
        ) -> Option<&'a mut TreeNode> {
            for n in nodes {
                if n.connection == connection && &n.path == path {
                    return matches!(n.children, Children::Loading).then_some(n);
                }
                if n.connection == connection
                    && path.starts_with(&n.path)
                    && let Children::Loaded(c) = &mut n.children
                {
                    return walk(c, connection, path);
                }
            }
            None
        }
        walk(&mut self.roots, connection, path)
    }

    pub fn set_children(
        &mut self,
        connection: &str,
        path: &CatalogPath,
        result: Result<Vec<CatalogNode>, String>,
    ) -> bool {
        let Some(node) = self.find_loading(connection, path) else {
            return false;
        };
        node.children = match result {
            Ok(list) => Children::Loaded(
                list.into_iter()
                    .map(|c| TreeNode::from_catalog(connection, path, c))
                    .collect(),
            ),
            Err(e) => Children::Failed(e),
        };
        true
    }

    /// Replaces the children of an expanded node already loaded (a background refresh); the
    /// expansion of children that are still there is kept.
    pub fn replace_loaded(
        &mut self,
        connection: &str,
        path: &CatalogPath,
        result: Result<Vec<CatalogNode>, String>,
    ) {
        let Ok(list) = result else {
            return;
        };
        let Some(node) = find_loaded(&mut self.roots, connection, path) else {
            return;
        };
        let Children::Loaded(old) = &mut node.children else {
            return;
        };
        let mut fresh: Vec<TreeNode> = list
            .into_iter()
            .map(|c| TreeNode::from_catalog(connection, path, c))
            .collect();
        for n in &mut fresh {
            if let Some(before) = old.iter_mut().find(|o| o.name == n.name) {
                n.expanded = before.expanded;
                n.children = std::mem::replace(&mut before.children, Children::NotLoaded);
            }
        }
        *old = fresh;
    }

    /// Keeps the selection inside the rows and on screen.
    pub fn clamp(&mut self, page: usize) {
        let n = self.rows().len();
        self.selected = self.selected.min(n.saturating_sub(1));
        let page = page.max(1);
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + page {
            self.top = self.selected + 1 - page;
        }
    }
}

fn find_loaded<'a>(
    nodes: &'a mut [TreeNode],
    connection: &str,
    path: &CatalogPath,
) -> Option<&'a mut TreeNode> {
    for n in nodes {
        if n.connection != connection || !path.starts_with(&n.path) {
            continue;
        }
        if &n.path == path {
            return Some(n);
        }
        if let Children::Loaded(c) = &mut n.children {
            return find_loaded(c, connection, path);
        }
    }
    None
}

fn matches(node: &TreeNode, needle: &str) -> bool {
    needle.is_empty() || node.name.to_lowercase().contains(needle)
}

fn subtree_matches(node: &TreeNode, needle: &str) -> bool {
    matches(node, needle)
        || matches!(&node.children, Children::Loaded(c) if c.iter().any(|n| subtree_matches(n, needle)))
}

fn push_rows(node: &TreeNode, at: Vec<usize>, depth: usize, needle: &str, out: &mut Vec<Row>) {
    if !subtree_matches(node, needle) {
        return;
    }
    let filtering = !needle.is_empty();
    let show_children = node.expanded || (filtering && !matches(node, needle));
    out.push(Row {
        depth,
        at: at.clone(),
    });
    if let (true, Children::Loaded(children)) = (show_children, &node.children) {
        for (i, child) in children.iter().enumerate() {
            let mut child_at = at.clone();
            child_at.push(i);
            // Below a matching node, show its expanded children unfiltered.
            let child_needle = if matches(node, needle) && depth > 0 {
                ""
            } else {
                needle
            };
            push_rows(child, child_at, depth + 1, child_needle, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> CatalogNode {
        CatalogNode {
            name: name.into(),
            kind: NodeKind::Table,
            detail: None,
            has_children: true,
            query: Some(format!("SELECT * FROM {name} LIMIT 100")),
            action: None,
        }
    }

    #[test]
    fn loads_and_filters() {
        let mut b = BrowserState {
            roots: vec![TreeNode::connection_root("local", "local".into())],
            ..Default::default()
        };
        assert_eq!(b.rows().len(), 1);
        // An answer nobody waits for is dropped.
        assert!(!b.set_children("local", &vec![], Ok(vec![table("trips")])));
        b.roots[0].children = Children::Loading;
        b.roots[0].expanded = true;
        assert!(b.set_children("local", &vec![], Ok(vec![table("trips"), table("zones")])));
        assert_eq!(b.rows().len(), 3);
        b.filter = "zon".into();
        let rows = b.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(b.node(&rows[1].at).map(|n| n.name.as_str()), Some("zones"));
    }
}

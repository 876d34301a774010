//! [`Location`]: where a finding is, in every form a reporter shows it.
//!
//! A finding's place is its object's origin plus the position of the offending field. This
//! module turns that pair into what reports need — the file and its line and column, the
//! position in a tool's output for rendered objects, a cluster object's address — and owns
//! their display forms, so that reporters choose a form and compute none.

use crate::resource::{ObjectRef, Origin, Position, Renderer, SourcePath, Written};

/// Where a finding is. Built by [`crate::Finding::location`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location<'a> {
    /// A field of a manifest file (or stdin).
    File {
        file: &'a SourcePath,
        /// 0-based index of the YAML document in the file.
        document: usize,
        /// Index in the `items` of a `kind: List` document.
        item: Option<usize>,
        /// The chart template Helm's `# Source:` comment names, for Helm output read as a file.
        helm_template: Option<&'a str>,
        /// The field's line and column in `file`.
        position: Option<Position>,
    },
    /// A field of an object a tool rendered from a chart or kustomization: `file` is the
    /// repository file where the field is written (the template, the kustomize patch that sets
    /// it, the resource file) or else the file the object comes from; `written` the field's
    /// line and column in `file` when they are known, and `position` a place in the tool's
    /// output, never in `file`.
    Rendered {
        tool: Renderer,
        dir: &'a SourcePath,
        file: &'a SourcePath,
        written: Option<Position>,
        /// The source as the tool wrote it (`chart/templates/x.yaml`, `../base/x.yaml`).
        source: Option<&'a str>,
        document: usize,
        item: Option<usize>,
        position: Option<Position>,
    },
    /// An object of a live cluster (or of a snapshot of one).
    Cluster {
        cluster: &'a str,
        object: &'a ObjectRef,
    },
}

impl<'a> Location<'a> {
    /// `written` is where a rendered object's field is written in the repository (see
    /// [`crate::Finding::written`]); other origins ignore it.
    pub fn new(
        origin: &'a Origin,
        object: &'a ObjectRef,
        position: Option<Position>,
        written: Option<&'a Written>,
    ) -> Self {
        match origin {
            // A file's object can hold values written in other files (a Compose override
            // or `extends`): the field is then shown where it is written.
            Origin::File {
                path,
                document,
                item,
                helm_source,
            } => Location::File {
                file: written.map_or(path, |w| &w.file),
                document: *document,
                item: *item,
                helm_template: helm_source.as_deref(),
                position: written.map(|w| w.position).or(position),
            },
            Origin::Rendered {
                tool,
                dir,
                file,
                source,
                document,
                item,
            } => Location::Rendered {
                tool: *tool,
                dir,
                file: written.map_or(file, |w| &w.file),
                written: written.map(|w| w.position),
                source: source.as_deref(),
                document: *document,
                item: *item,
                position,
            },
            Origin::Cluster { cluster } => Location::Cluster { cluster, object },
        }
    }

    /// The file a reader opens: the manifest, or the file a rendered object comes from.
    pub fn file(&self) -> Option<&'a SourcePath> {
        match *self {
            Location::File { file, .. } | Location::Rendered { file, .. } => Some(file),
            Location::Cluster { .. } => None,
        }
    }

    /// The line and column in [`Location::file`]. For a rendered object, where the field is
    /// written in that file when it could be told, never its position in the tool's output:
    /// claiming a line of the output as a line of the template would mislead.
    pub fn region(&self) -> Option<Position> {
        match *self {
            Location::File { position, .. } => position,
            Location::Rendered { written, .. } => written,
            Location::Cluster { .. } => None,
        }
    }

    /// The chart template Helm named for the object, from `# Source:` in a file or from a
    /// chart rendered by posture.
    pub fn helm_template(&self) -> Option<&'a str> {
        match *self {
            Location::File { helm_template, .. } => helm_template,
            Location::Rendered {
                tool: Renderer::Helm,
                source,
                ..
            } => source,
            Location::Rendered { .. } | Location::Cluster { .. } => None,
        }
    }

    /// The same place without the Helm template, for a row under a heading that names it.
    pub fn without_template(self) -> Location<'a> {
        match self {
            Location::File {
                file,
                document,
                item,
                position,
                ..
            } => Location::File {
                file,
                document,
                item,
                helm_template: None,
                position,
            },
            other => other,
        }
    }

    /// A cluster object's stable address, `k8s://<cluster>/<namespace>/<Kind>/<name>`.
    pub fn object_uri(&self) -> Option<String> {
        match *self {
            Location::Cluster { cluster, object } => Some(object.uri(cluster)),
            Location::File { .. } | Location::Rendered { .. } => None,
        }
    }

    /// On one line: `file:line:column` (with ` (template t)` for Helm output that names its
    /// template), `file[:line:column] (helm output of dir, line l:c)` for a rendered object, or
    /// the cluster object's `k8s://` address.
    pub fn line(&self) -> String {
        self.joined(" ", |cluster, object| object.uri(cluster))
    }

    /// For a table cell: the same parts as [`Location::line`] on two lines, and a cluster
    /// object as `cluster <name>` (the object has a column of its own).
    pub fn cell(&self) -> String {
        self.joined("\n", |cluster, _| format!("cluster {cluster}"))
    }

    fn joined(&self, separator: &str, cluster: impl Fn(&str, &ObjectRef) -> String) -> String {
        match *self {
            Location::File {
                file,
                helm_template,
                position,
                ..
            } => {
                let mut s = file.to_string();
                if let Some(p) = position {
                    s.push_str(&format!(":{}:{}", p.line, p.column));
                }
                if let Some(t) = helm_template {
                    s.push_str(&format!("{separator}(template {t})"));
                }
                s
            }
            Location::Rendered {
                tool,
                dir,
                file,
                written,
                position,
                ..
            } => {
                let line = |p: Position| format!(":{}:{}", p.line, p.column);
                let written = written.map_or(String::new(), line);
                let at =
                    position.map_or(String::new(), |p| format!(", line {}:{}", p.line, p.column));
                format!(
                    "{file}{written}{separator}({} output of {dir}{at})",
                    tool.as_str()
                )
            }
            Location::Cluster {
                cluster: name,
                object,
            } => cluster(name, object),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object() -> ObjectRef {
        ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("ratings".into()),
            name: "api".into(),
        }
    }

    #[test]
    fn each_origin_has_its_one_line_and_table_forms() {
        let at = Some(Position {
            line: 12,
            column: 7,
        });
        let file = Origin::File {
            path: SourcePath::from("./app/deploy.yaml"),
            document: 0,
            item: None,
            helm_source: Some("chart/templates/d.yaml".into()),
        };
        let o = object();
        let l = Location::new(&file, &o, at, None);
        assert_eq!(
            l.line(),
            "app/deploy.yaml:12:7 (template chart/templates/d.yaml)"
        );
        assert_eq!(
            l.cell(),
            "app/deploy.yaml:12:7\n(template chart/templates/d.yaml)"
        );
        assert_eq!(l.region(), at);

        let rendered = Origin::Rendered {
            tool: Renderer::Helm,
            dir: SourcePath::from("charts/app"),
            file: SourcePath::from("charts/app/templates/d.yaml"),
            source: Some("app/templates/d.yaml".into()),
            document: 2,
            item: None,
        };
        let l = Location::new(&rendered, &o, at, None);
        assert_eq!(
            l.line(),
            "charts/app/templates/d.yaml (helm output of charts/app, line 12:7)"
        );
        assert_eq!(
            l.region(),
            None,
            "a line of helm's output is not a line of the file"
        );
        assert_eq!(l.helm_template(), Some("app/templates/d.yaml"));

        // Where the field is written, when the template or patch says it: that file's line.
        let written = Written {
            file: SourcePath::from("overlay/patch.yaml"),
            position: Position { line: 3, column: 5 },
        };
        let l = Location::new(&rendered, &o, at, Some(&written));
        assert_eq!(
            l.line(),
            "overlay/patch.yaml:3:5 (helm output of charts/app, line 12:7)"
        );
        assert_eq!(
            l.cell(),
            "overlay/patch.yaml:3:5\n(helm output of charts/app, line 12:7)"
        );
        assert_eq!(l.region(), Some(written.position));
        assert_eq!(l.file(), Some(&written.file));

        let cluster = Origin::Cluster {
            cluster: "aks".into(),
        };
        let l = Location::new(&cluster, &o, None, None);
        assert_eq!(l.line(), "k8s://aks/ratings/Deployment.apps/api");
        assert_eq!(l.cell(), "cluster aks");
        assert_eq!(l.file(), None);
    }
}

/// The files of the top-level `templates/` folder, compiled into the binary (see
/// scripts/embed-templates.py) so an installed `expt` needs no resource bundle.
public enum EmbeddedTemplates {
    /// The text of `templates/<name>`, or nil.
    public static func text(_ name: String) -> String? { files[name] }
    /// Every embedded template name, sorted.
    public static var names: [String] { files.keys.sorted() }
}

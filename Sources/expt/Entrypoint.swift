import ExptCLI

@main
struct Entrypoint {
    static func main() async { await Expt.main() }
}

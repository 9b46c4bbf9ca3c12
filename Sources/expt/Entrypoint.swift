import ExptCLI

@main
struct Entrypoint {
    static func main() { Expt.main() }
}

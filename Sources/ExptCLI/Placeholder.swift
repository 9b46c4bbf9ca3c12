import ArgumentParser
public struct Expt: AsyncParsableCommand {
    public init() {}
    public func run() async throws {}
}

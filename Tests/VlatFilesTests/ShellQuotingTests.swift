import Foundation
import Testing
import VlatFiles

@Suite struct ShellQuotingTests {
    @Test func plainWordsStayAsTheyAre() {
        #expect(ShellQuoting.commandLine(["vlat", "bench", "../shared/corpus/kodak", "--codecs", "jpeg,webp", "--lr", "3e-6"])
            == "vlat bench ../shared/corpus/kodak --codecs jpeg,webp --lr 3e-6")
        #expect(ShellQuoting.quoted("") == "''")
        #expect(ShellQuoting.quoted("it's") == "'it'\\''s'")
    }

    /// The reference is the shell itself: /bin/sh reads each quoted line back into the same words.
    @Test func theShellReadsTheWordsBack() throws {
        var state: UInt64 = 0x5EED
        func next(_ n: Int) -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) % n }
        let alphabet = Array("ab Z09-_./'\"$`\\!*?[]{}();&|<>~#=,:+@%\t\n é")
        var words: [String] = ["", "'", "''", "a'b'c", "$HOME", "*", "x y"]
        for _ in 0..<40 { words.append(String((0..<next(9)).map { _ in alphabet[next(alphabet.count)] })) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf '%s\\0' " + ShellQuoting.commandLine(words)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let back = data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        #expect(back == words)
    }
}

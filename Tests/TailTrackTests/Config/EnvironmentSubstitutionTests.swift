import Testing

@testable import TailTrack

@Suite struct EnvironmentSubstitutionTests {
    let environment = ["SITE": "abc123", "EMPTY": "", "PORT": "8080"]

    private func expand(_ text: String) -> String? {
        try? EnvironmentSubstitution.expand(text, environment: environment).get()
    }

    private func failure(_ text: String) -> String? {
        if case .failure(let failure) = EnvironmentSubstitution.expand(text, environment: environment) {
            return failure.message
        }
        return nil
    }

    @Test func substitutesSetVariables() {
        #expect(expand("${SITE}") == "abc123")
        #expect(expand("http://127.0.0.1:${PORT}/x") == "http://127.0.0.1:8080/x")
        #expect(expand("${SITE}-${PORT}") == "abc123-8080")
        #expect(expand("${EMPTY}") == "")
    }

    @Test func defaults() {
        #expect(expand("${MISSING:-fallback}") == "fallback")
        #expect(expand("${EMPTY:-fallback}") == "fallback")
        #expect(expand("${SITE:-fallback}") == "abc123")
        #expect(expand("${MISSING:-}") == "")
        #expect(expand("${MISSING:-a:-b}") == "a:-b")
    }

    @Test func dollars() {
        #expect(expand("$$") == "$")
        #expect(expand("cost $$5") == "cost $5")
        #expect(expand("$${SITE}") == "${SITE}")
        #expect(expand("a$b") == "a$b")
        #expect(expand("end$") == "end$")
        #expect(expand("no references") == "no references")
    }

    @Test func errors() {
        #expect(failure("${CIO_SITE_ID}") == "environment variable CIO_SITE_ID is not set")
        #expect(failure("${SITE") == "unterminated \"${\" (write \"$$\" for a literal \"$\")")
        #expect(failure("${1X}") == "\"${\" is not followed by a variable name (letters, digits and _)")
        #expect(failure("${}") == "\"${\" is not followed by a variable name (letters, digits and _)")
    }
}

import XCTest
import ExptModel
@testable import ExptCore

/// Every secret form `Redactor` promises to hide, a realistic failure log with planted secrets,
/// and ordinary log text it must leave exactly as it was.
final class RedactionTests: XCTestCase {
    private let r = Redactor.mark
    // Test secrets, assembled at run time so no scanner mistakes this file for a leak.
    private let hex40 = String(repeating: "0123456789abcdef", count: 3).prefix(40).description
    private let ghp = "ghp_" + String(repeating: "A1b2C3d4E5", count: 4).prefix(36)
    private let hf = "hf_" + String(repeating: "QwErTyUiOp", count: 4).prefix(34)

    func assertRedacts(_ input: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let once = Redactor.redact(input)
        XCTAssertEqual(once, expected, file: file, line: line)
        XCTAssertEqual(Redactor.redact(once), once, "not idempotent", file: file, line: line)
    }

    func assertUnchanged(_ input: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Redactor.redact(input), input, file: file, line: line)
    }

    // MARK: token formats

    func testGitHubTokens() {
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            let token = prefix + String(repeating: "x9", count: 18)
            assertRedacts("using \(token) now", "using \(prefix)\(r) now")
        }
        let pat = "github_pat_11ABCDEFG0" + String(repeating: "abc_XYZ12", count: 8)
        assertRedacts("pat \(pat).", "pat github_pat_\(r).")
    }

    func testHuggingFaceSlackOpenAIAWSKeyIds() {
        assertRedacts("login with \(hf)", "login with hf_\(r)")
        assertRedacts("xoxb-1234567890-abcdefghij and xoxp-99-88-aa", "xoxb-\(r) and xoxp-\(r)")
        assertRedacts("key sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12 end", "key sk-\(r) end")
        assertRedacts("id AKIAIOSFODNN7EXAMPLE / ASIAY34FZKBOKMUTVV7A", "id AKIA\(r) / ASIA\(r)")
    }

    func testWandbKeys() {
        assertRedacts("WANDB_API_KEY=\(hex40)", "WANDB_API_KEY=\(r)")
        assertRedacts("$ wandb login \(hex40)", "$ wandb login \(r)")
        assertRedacts("$ wandb login --relogin \(hex40)", "$ wandb login --relogin \(r)")
        assertRedacts("machine api.wandb.ai\n  login user\n  password \(hex40)\n",
                      "machine api.wandb.ai\n  login user\n  password \(r)\n")
        assertRedacts("wandb api key is \(hex40)", "wandb api key is \(r)")
        assertRedacts("my token: \(hex40)", "my token: \(r)")
    }

    func testAWSSecretKeys() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        assertRedacts("aws_secret_access_key = \(secret)", "aws_secret_access_key = \(r)")
        assertRedacts("export AWS_SECRET_ACCESS_KEY=\(secret)", "export AWS_SECRET_ACCESS_KEY=\(r)")
        assertRedacts("aws configure set aws_secret_access_key \(secret)",
                      "aws configure set aws_secret_access_key \(r)")
    }

    func testPrivateKeyBlocks() {
        let block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\nAAAABG5vbmUA\n-----END OPENSSH PRIVATE KEY-----"
        assertRedacts("key:\n\(block)\nafter",
                      "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n\(r)\n-----END OPENSSH PRIVATE KEY-----\nafter")
        // A log tail can cut a block off: everything after BEGIN goes.
        assertRedacts("x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC", "x\n-----BEGIN RSA PRIVATE KEY-----\n\(r)\n")
        assertRedacts("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
                      "-----BEGIN PRIVATE KEY-----\n\(r)\n-----END PRIVATE KEY-----")
    }

    func testAuthorizationHeaders() {
        assertRedacts("Authorization: Bearer abc.def-ghi", "Authorization: Bearer \(r)")
        assertRedacts("curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x", "curl -H 'Authorization: Basic \(r)' https://x")
        assertRedacts("authorization: token \(ghp)", "authorization: token ghp_\(r)")
        assertRedacts("sent bearer eyAbCdEfGhIjKlMnOp123", "sent bearer \(r)")
        assertRedacts("Cookie: session=abc123; theme=dark", "Cookie: \(r)")
    }

    // MARK: names

    func testNamedValuesInEveryForm() {
        assertRedacts("DB_PASSWORD=hunter2", "DB_PASSWORD=\(r)")
        assertRedacts("export MY_SECRET=\"s3cr3t value\"", "export MY_SECRET=\"\(r)\"")
        assertRedacts("api_key: abc123", "api_key: \(r)")
        assertRedacts("  password: correct horse battery staple  # yaml", "  password: \(r)  # yaml")
        assertRedacts(#"{"token": "abc123", "user": "me"}"#, #"{"token": "\#(r)", "user": "me"}"#)
        assertRedacts("{'clientSecret': 'xyz', 'n': 1}", "{'clientSecret': '\(r)', 'n': 1}")
        assertRedacts("train.py --password hunter2 --lr 3e-4", "train.py --password \(r) --lr 3e-4")
        assertRedacts("train.py --token=abc123 --lr 3e-4", "train.py --token=\(r) --lr 3e-4")
        assertRedacts("--hub-token 'abc def'", "--hub-token '\(r)'")
        assertRedacts("X-Api-Key: k123", "X-Api-Key: \(r)")
        assertRedacts("GET /v1?access_token=abc123&page=2", "GET /v1?access_token=\(r)&page=2")
        assertRedacts("MYSQL_PWD=pw1 PASSWD=pw2 GOOGLE_CREDENTIALS=c3 STRIPE_KEY=k4",
                      "MYSQL_PWD=\(r) PASSWD=\(r) GOOGLE_CREDENTIALS=\(r) STRIPE_KEY=\(r)")
        assertRedacts("apiKey=abc authToken=def", "apiKey=\(r) authToken=\(r)")
        assertRedacts("Token = 'abc'", "Token = '\(r)'")
    }

    func testSecretNames() {
        for name in ["WANDB_API_KEY", "hub_token", "HF_TOKEN", "clientSecret", "db.password", "x-api-key",
                     "SECRET_KEY_BASE", "apikey", "privateKey", "aws_secret_access_key", "PASSWD", "refresh_token"] {
            XCTAssertTrue(Redactor.isSecretName(name), name)
        }
        for name in ["max_tokens", "tokenizer", "pad_token", "eos_token_id", "TOKEN_FILE", "sort_key", "key",
                     "PWD", "OLDPWD", "num_keys", "monkey", "KeyError", "tokens_per_second", "password_reset"] {
            XCTAssertFalse(Redactor.isSecretName(name), name)
        }
    }

    // MARK: URLs

    func testCredentialsInURLs() {
        assertRedacts("https://user:pass@host/x", "https://user:***@host/x")
        assertRedacts("remote: https://\(ghp)@github.com/o/r.git", "remote: https://***@github.com/o/r.git")
        assertRedacts("https://x-access-token:\(ghp)@github.com/o/r", "https://x-access-token:***@github.com/o/r")
        assertUnchanged("ssh://git@github.com/o/r.git and git@github.com:o/r.git and https://octocat@github.com/o/r")
        assertRedacts("redis://:pw@cache:6379/0 postgresql://app:pw@db:5432/x", "redis://:***@cache:6379/0 postgresql://app:***@db:5432/x")
        assertUnchanged("see http://localhost:8080/metrics and mail me@example.com")
    }

    // MARK: false positives

    func testOrdinaryLogTextIsUntouched() {
        assertUnchanged("""
        commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39
        Merge: 3f2a9c1 8b7d6a5
        run id 7c9e6679-7425-40de-944b-e07fc1f90ae7
        Loading tokenizer from /data/models/tokenizer.json (max_tokens=512, pad_token=<pad>)
        eos_token_id=2 num_tokens: 1048576 tokens/s: 3412.5
        Please use the password reset link if you forgot your password.
        PWD=/home/alice/exp OLDPWD=/home/alice CUDA_VISIBLE_DEVICES=0,1 MASTER_PORT=29500
        TOKEN_FILE=/run/secrets/token KEY_PATH=~/.ssh/id_ed25519 use_auth_token=True token=None
        KeyError: 'input_ids'
        sort_key=val_loss metric_key: val/acc lr=3e-4 step=1000 loss=2.3456
        /root/.cache/huggingface/hub/models--gpt2/snapshots/607a30d783dfa663caf39e06633721c8d4cfcd7e/config.json
          File "/work/train.py", line 42, in <module>
            token = os.environ.get("HF_TOKEN")
            key = self.api_key
        HEAD is now at 3f2a9c1 fix lr; sk-learn is not a key; task-abcdefghijklmnopqrstuvw
        password: ${DB_PASSWORD}   api_key: <your key here>
        """)
    }

    func testRealisticFailureLog() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let log = """
        + export HF_TOKEN=\(hf)
        + export WANDB_API_KEY=\(hex40)
        + git clone https://oauth2:\(ghp)@github.com/acme/data.git
        wandb: Currently logged in as: alice. Use `wandb login --relogin` to force relogin
        wandb: Tracking run with wandb version 0.16.0
        wandb: Run data is saved locally in /scratch/alice/wandb/run-20240101_120000-3f2a9c1e
        [rank0]: env: {'AWS_ACCESS_KEY_ID': 'AKIAIOSFODNN7EXAMPLE', 'AWS_SECRET_ACCESS_KEY': '\(secret)', 'SLURM_JOB_ID': '4242'}
        [rank0]: requests.exceptions.HTTPError: 401 Client Error for url: https://api.example.com/v1?api_key=abc123xyz
        [rank0]: headers={'Authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'}
        Traceback (most recent call last):
          File "/work/train.py", line 88, in <module>
            main(cfg)
        torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB
        srun: error: node17: task 0: Exited with exit code 1
        """
        let out = Redactor.redact(log)
        for planted in [hf, hex40, ghp, secret, "AKIAIOSFODNN7EXAMPLE", "abc123xyz", "eyJhbGciOiJIUzI1NiJ9"] {
            XCTAssertFalse(out.contains(planted), "leaked \(planted) in:\n\(out)")
        }
        for kept in ["HF_TOKEN=hf_\(r)", "WANDB_API_KEY=\(r)", "https://oauth2:***@github.com/acme/data.git",
                     "'AWS_SECRET_ACCESS_KEY': '\(r)'", "'SLURM_JOB_ID': '4242'", "api_key=\(r)",
                     "wandb: Currently logged in as: alice. Use `wandb login --relogin` to force relogin",
                     "/scratch/alice/wandb/run-20240101_120000-3f2a9c1e", "File \"/work/train.py\", line 88",
                     "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
                     "srun: error: node17: task 0: Exited with exit code 1"] {
            XCTAssertTrue(out.contains(kept), "expected \(kept) in:\n\(out)")
        }
        XCTAssertEqual(Redactor.redact(out), out)
    }

    func testLargeInputIsFast() {
        let line = "step=100 loss=2.31 lr=3e-4 tokens/s=3412 commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39 PWD=/x\n"
        let big = String(repeating: line, count: 20_000) // ~2 MB
        let start = Date()
        XCTAssertEqual(Redactor.redact(big), big)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }
}

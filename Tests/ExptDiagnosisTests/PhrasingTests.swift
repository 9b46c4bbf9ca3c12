import XCTest
@testable import ExptDiagnosis

/// Common wordings of each failure mode across libraries and schedulers, one or two lines each
/// (written for these tests), so a rule change that loses a well-known phrasing shows up.
final class PhrasingTests: XCTestCase {
    static let cases: [(String, FailureCategory)] = [
        ("numpy.core._exceptions._ArrayMemoryError: Unable to allocate 3.50 GiB for an array with shape (1000, 1000, 470)", .oomHost),
        ("Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space", .oomHost),
        ("slurmstepd: error: Exceeded step memory limit at some point.", .oomHost),
        ("mpirun noticed that process rank 3 with PID 0 on node gpu7 exited on signal 9 (Killed).", .oomHost),
        ("RuntimeError: DataLoader worker (pid 4242) is killed by signal: Killed.", .oomHost),
        ("RuntimeError: CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported", .oomGPU),
        ("jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate 8589934592 bytes.", .oomGPU),
        ("RuntimeError: MPS backend out of memory (MPS allocated: 17.00 GB)", .oomGPU),
        ("=>> PBS: job killed: walltime 86415 exceeded limit 86400", .timeout),
        ("slurmstepd: error: *** STEP 12.0 ON n3 CANCELLED AT 2025-05-01T10:00:00 DUE TO TIME LIMIT ***", .timeout),
        ("Warning  DeadlineExceeded  2m  job-controller  Job was active longer than specified deadline", .timeout),
        ("slurmstepd: error: *** JOB 44 ON n1 CANCELLED AT 2025-05-01T10:00:00 DUE TO PREEMPTION ***", .preempted),
        ("WARNING: Instance was preempted by the cloud provider", .preempted),
        ("slurmstepd: error: *** JOB 45 ON n2 CANCELLED AT 2025-05-01T10:00:00 DUE TO NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***", .nodeFailure),
        ("RuntimeError: CUDA error: unspecified launch failure", .nodeFailure),
        ("RuntimeError: CUDA error: uncorrectable ECC error encountered", .nodeFailure),
        ("srun: Required node not available (down, drained or reserved)", .stuckScheduling),
        ("Warning  FailedScheduling  1m  default-scheduler  0/3 nodes are available: 3 Insufficient memory.", .stuckScheduling),
        ("mount.nfs: Connection timed out", .mountFailure),
        ("OSError: [Errno 107] Transport endpoint is not connected: '/mnt/gcs/bucket'", .mountFailure),
        ("FATAL:   While making image from oci registry: error fetching image to cache", .imagePull),
        ("docker: Error response from daemon: pull access denied for myorg/trainer, repository does not exist", .imagePull),
        ("train.py: error: the following arguments are required: --data", .configError),
        ("yaml.scanner.ScannerError: mapping values are not allowed here\n  in \"conf/train.yaml\", line 4, column 9", .configError),
        ("hydra.errors.MissingConfigException: Cannot find primary config 'trian'", .configError),
        ("sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified", .configError),
        ("ImportError: libcudnn.so.8: cannot open shared object file: No such file or directory", .missingDependency),
        ("/bin/bash: line 1: python: command not found", .missingDependency),
        ("ERROR: No matching distribution found for torch==1.99", .missingDependency),
        ("RuntimeError: CUDA error: no kernel image is available for execution on the device", .missingDependency),
        ("_pickle.UnpicklingError: invalid load key, '<'.", .dataError),
        ("ValueError: num_samples should be a positive integer value, but got num_samples=0", .dataError),
        ("RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central directory", .dataError),
        ("FloatingPointError: Minimum loss scale reached (0.0001). Your loss is probably exploding.", .nanLoss),
        ("RuntimeError: Function 'LogSoftmaxBackward0' returned nan values in its 0th output.", .nanLoss),
        ("torch.distributed.DistBackendError: NCCL error in: ProcessGroupNCCL.cpp:1275, unhandled system error", .ncclDistributed),
        ("torch.distributed.elastic.rendezvous.api.RendezvousTimeoutError", .ncclDistributed),
        ("ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device", .diskFull),
        ("sqlite3.OperationalError: database or disk is full", .diskFull),
        ("AssertionError: expected 3 channels", .codeError),
        ("terminate called after throwing an instance of 'std::runtime_error'\n  what():  bad index\nAborted (core dumped)", .codeError),
        ("Fatal Python error: Segmentation fault", .segfaultSignal),
        ("ERROR: Unexpected segmentation fault encountered in worker.", .segfaultSignal),
        ("Illegal instruction (core dumped)", .segfaultSignal),
        ("urllib3.exceptions.MaxRetryError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded", .networkTransient),
        ("huggingface_hub.utils._errors.HfHubHTTPError: 503 Server Error: Service Unavailable for url", .networkTransient),
        ("`Trainer.fit` stopped: `max_epochs=0` reached.", .falseSuccess),
        ("Epoch 0: 100%|██████████| 500/500 [01:00<00:00]\n`Trainer.fit` stopped: `max_epochs=1` reached.", .success),
        ("Training completed. Do not forget to share your model on huggingface.co/models =)", .success),
        // Wordings found missing by the validation set (docs/diagnosis.md, "Validation set").
        ("[ERROR] [launch.py:321:sigkill_handler] ['/usr/bin/python', '-u', 'train.py'] exits with return code = -9", .oomHost),
        ("[ERROR] [launch.py:321:sigkill_handler] ['/usr/bin/python', '-u', 'train.py'] exits with return code = -11", .segfaultSignal),
        ("worker 2025/01/01 10:00:00 Spot instance termination notice received", .preempted),
        ("salloc: Prolog failure on node gpu017", .nodeFailure),
        ("  1234   gpu   train  alice PENDING  0:00  1-00:00:00  2 (ReqNodeNotAvail, UnavailableNodes:gpu[01-04])", .stuckScheduling),
        ("An MPI communication peer process has unexpectedly disconnected.  This", .ncclDistributed),
        ("RuntimeError: connect() timed out. Original timeout was 1800000 ms.", .ncclDistributed),
        ("2024-01-01 10:00:00 Completed - Training job completed", .success),
        ("ValueError: File data/train_split.jsonl not found.", .dataError),
        ("Total num batches 0\nIter: 1", .falseSuccess),
        ("Steps:   0%|          | 0/1000 [00:00<?, ?it/s]\nSaving final model to output/", .falseSuccess),
        ("  Command error:\n    KeyError: 'label'", .codeError),
    ]

    func testCommonPhrasings() throws {
        for (text, category) in PhrasingTests.cases {
            let d = try diagnose(text: text + "\n")
            XCTAssertEqual(d.category, category, "\(text)\n\(d.render(explain: true))")
        }
    }

    func testCppAbortIsCausedByTheUncaughtException() throws {
        let d = try diagnose(text: "terminate called after throwing an instance of 'std::runtime_error'\n  what():  bad index\nAborted (core dumped)\n")
        XCTAssertEqual(d.category, .codeError)
        XCTAssertEqual(d.secondary, .segfaultSignal)
    }

    func testRetriedOOMIsNotFatal() throws {
        let log = "CUDA out of memory at batch size 64, retrying with batch size 32\nTraining completed.\n"
        XCTAssertEqual(try diagnose(text: log).category, .success)
    }

    /// A "retry" inside an identifier (an Argo workflow named retry-sample-x) is not a retry message.
    func testRetryInsideAnIdentifierDoesNotSoftenAFatalHit() throws {
        let log = "time=\"2024-05-13T02:45:55Z\" level=info msg=\"Max duration limit exceeded. Failing...\" workflow=retry-sample-knssl\n"
        let d = try diagnose(text: log)
        XCTAssertEqual(d.category, .timeout)
        XCTAssertEqual(d.hits.first?.effect, .fatal)
    }

    /// AER's "PCIe Bus Error: severity=Corrected" is not a SIGBUS.
    func testPCIeBusErrorIsNotABusError() throws {
        let log = "pcieport 0000:00:03.0: PCIe Bus Error: severity=Corrected, type=Data Link Layer, (Transmitter ID)\n"
        XCTAssertNotEqual(try diagnose(text: log).category, .segfaultSignal)
    }
}

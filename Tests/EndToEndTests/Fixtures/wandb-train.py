# wandb-train.py: a tiny "training" script for expt's end-to-end tests, run by the REAL wandb
# (WANDB_MODE=offline) under expt's local backend.
#
#   python3 wandb-train.py MODE [--steps N] [--resume-from FILE]
#     MODE  ok    finish normally, print `training complete`, exit 0
#           fail  after 2 steps raise RuntimeError("simulated failure") (exit 1)
#           oom   after 2 steps allocate 50 MB chunks until killed (run it under a memory limit).
#                 Measured here with wandb 0.31.0: under RLIMIT_AS (ulimit -v / prlimit --as) the
#                 process is not killed but gets MemoryError (traceback, exit 1; ~4 s at 2 GB), and
#                 below ~2 GB wandb.init itself fails: the wandb-core child inherits the limit and
#                 exits 2 (ServicePollForTokenError). Only a cgroup memory limit gives an OOM kill.
#           kill  after 2 steps sleep 600 s (the test SIGKILLs it)
#           hang  after 2 steps print nothing more and sleep 600 s
#     --steps N          total steps (default 4)
#     --resume-from FILE start at the step number written in FILE when it exists
#
# wandb.init gets only project (WANDB_PROJECT, default expt-test) and config; run id, name,
# group, tags and resume come from the WANDB_* variables expt sets (WANDB_RUN_ID, WANDB_NAME,
# WANDB_RUN_GROUP, WANDB_TAGS, WANDB_RESUME), which wandb.init reads itself. Each step logs
# {"loss": 1/(S+1), "epoch": S // 4}, prints `step S/N epoch E loss L` (S counts from 0, so
# `step 3/8 epoch 0 loss 0.250`; flushed), writes S+1 (the steps done, i.e. the next step to run)
# to checkpoints/step.txt, and sleeps 0.05 s. fail/oom/kill/hang act after 2 steps of this
# process, or sooner when fewer steps are left.
# Offline, every wandb.init makes wandb/offline-run-YYYYMMDD_HHMMSS-<WANDB_RUN_ID>; a second one
# in the same second gets a "-1" suffix (sdk/wandb_init.py set_sync_dir_suffix).
import argparse, os, sys, time

import wandb

STEPS_PER_EPOCH = 4


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["ok", "fail", "oom", "kill", "hang"])
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--resume-from", default=None)
    args = p.parse_args()

    start = 0
    if args.resume_from and os.path.exists(args.resume_from):
        with open(args.resume_from) as f:
            text = f.read().strip()
        start = int(text) if text else 0
        print("resuming from step %d (%s)" % (start, args.resume_from), flush=True)

    run = wandb.init(project=os.environ.get("WANDB_PROJECT", "expt-test"),
                     config={"max_steps": args.steps, "lr": 0.01})
    os.makedirs("checkpoints", exist_ok=True)
    done_here = 0
    for step in range(start, args.steps):
        if done_here == 2 and args.mode != "ok":
            break
        epoch = step // STEPS_PER_EPOCH
        loss = 1.0 / (step + 1)
        wandb.log({"loss": loss, "epoch": epoch})
        print("step %d/%d epoch %d loss %.3f" % (step, args.steps, epoch, loss), flush=True)
        with open(os.path.join("checkpoints", "step.txt.tmp"), "w") as f:
            f.write("%d\n" % (step + 1))
        os.replace(os.path.join("checkpoints", "step.txt.tmp"), os.path.join("checkpoints", "step.txt"))
        done_here += 1
        time.sleep(0.05)

    mode = args.mode
    if mode == "ok":
        run.finish()
        print("training complete", flush=True)
        return 0
    if mode == "fail":
        raise RuntimeError("simulated failure")
    if mode == "oom":
        print("allocating memory until killed", flush=True)
        hog = []
        while True:
            hog.append(bytearray(50 * 1024 * 1024))   # bytearray(n) is zero-filled: the pages are touched
            time.sleep(0.01)
    if mode == "kill":
        print("sleeping until killed", flush=True)
        time.sleep(600)
        return 0
    if mode == "hang":
        time.sleep(600)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())

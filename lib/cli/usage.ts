/** Help texts. */

export const SHOW_HELP = `llm-sim: a simulated large-scale LLM training run, physically consistent.

Usage:
  llm-sim [flags]            play simulated training runs, one after another, until Ctrl-C
  llm-sim plan [flags]       what a training run would take (llm-sim plan --help)
  llm-sim train [flags]      one simulated run of your own, kept in runs/<id>/
  llm-sim status|runs|logs|stop|resume|init-config
                             the trainer workflow (each has --help)
  llm-sim generate [flags]   sample text from a run's checkpoint (llm-sim generate --help)
  llm-sim completions SHELL  print shell completions for bash, zsh or fish
  llm-sim monitor            a live terminal UI over the runs (llm-sim monitor --help)

Flags:
  --style NAME               print runs as megatron, hf, torchtitan, deepspeed, lightning,
                             nanogpt or torchrun logs (default: what fits each run)
  --format jsonl             one JSON object per line (run_start, step, gpu, eval, …)
  --seed N                   replay: the same seed plays the same runs (0–4294967295)
  --speed X                  time factor, at least 0.01 (1 = real time, the default)
  --instant                  no pauses: print as fast as possible
  --exit-after-time D        stop after a duration: 90s, 2m, 1h30m
  --exit-after-runs N        stop after N runs
  --model NAME               model preset, alias or fun name (see --list models)
  --gpu NAME                 GPU type (see --list gpus)
  --gpus N                   GPU count: 1–8, or whole nodes of 8
  --precision P              bf16, fp16, fp8 or fp32
  --list WHAT                print the catalog of models, gpus or datasets
  --width N                  columns to fit (20–400; default: the terminal's)
  --no-color                 no colours (NO_COLOR is honoured too)
  --chaos                    a flaky cluster: NCCL timeouts, restarts from the last
                             checkpoint and slow nodes every few minutes
  --start-time T             simulated start, e.g. 2026-11-26T09:00:00Z (reproducible logs)
  --record FILE              also write an asciicast v2 recording of the show to FILE
                             (needs deno run --allow-write=FILE)
  -h, --help                 this help
  -V, --version              print the version

Every number comes from one hidden configuration (architecture, GPUs, parallel layout,
precision, batch, sequence length). Each run's summary prints its seed and a command to
replay it.
`;

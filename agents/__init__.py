"""agents: schedules (policies), PPO training, benchmarks and the command line."""

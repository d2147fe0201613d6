from bot.simulator.pytest_plugin import github_sim, make_github_sim  # noqa: F401

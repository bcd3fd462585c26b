"""The learned (RL) suggestion policy on the serving side: its weights, read and run with numpy.

`training_jobs/rl_policy` trains it (PPO with a novelty reward over the unit cube, torch, a
training job) and the experiment workflow registers it as a version of the project's
`rl_policy` model; `registered` finds the version the engine should use and `policy` evaluates
its actor without torch. `optiloop.testopt.strategies.rl` turns it into the `rl` operator.
"""

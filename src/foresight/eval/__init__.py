"""Evaluation: running a strategy over a task's questions into a resumable run directory
(`evaluate`, `loop`, `runs`), and reading run directories back: summaries and tables
(`report`), accuracy-vs-FLOPs plots (`plots`), budget sweeps (`sweep`), one question's search
as a tree (`show`) and step-value accuracy (`step_values`)."""

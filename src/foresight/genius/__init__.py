"""Genius (Xu et al., ACL 2025): self-training from unlabeled queries (SPEC §3).

`resampling` searches each query with foresight and records every candidate trajectory's
value; `pairs` turns those records into step-level preference pairs; `losses` holds ACO and
the DPO-family losses as pure functions; `trainer` plugs them into TRL's DPOTrainer; `loop`
runs the whole thing with a before/after evaluation.
"""

"""Genius training on TRL: a `DPOTrainer` subclass whose loss is one of `genius.losses`.

TRL does the rest unchanged: tokenising conversational pairs through the chat template,
reference log-probs (precomputed once by default), LoRA via PEFT, and multi-device runs under
`accelerate launch` or DeepSpeed. Two things are ours:

* the collator carries the per-pair advantage columns into the batch (TRL's own collator, and
  its `remove_unused_columns`, would drop them), and
* `_compute_loss` (TRL >= 1.0's loss extension point; older TRL computed it in `dpo_loss`)
  turns the batch into a `PairLogps` and calls the chosen pure loss function. A loss that needs
  advantages refuses to run without them rather than silently training plain DPO.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from trl import DPOConfig, DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference

from foresight.genius.losses import LOSSES, NEEDS_ADVANTAGES, NEEDS_REFERENCE, LossSettings, PairLogps, training_loss
from foresight.genius.pairs import ADVANTAGE_COLUMNS

# TRL still passes transformers' renamed gradient-checkpointing options; the notice is for TRL's
# maintainers, not for someone training a model, so it stays out of our output.
warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.* is deprecated", category=FutureWarning)


@dataclass
class GeniusConfig(DPOConfig):
    """TRL's DPOConfig plus the Genius loss choice and its hyper-parameters (SPEC §3 step 4)."""

    loss: str = field(default="aco", metadata={"help": f"preference loss: {', '.join(LOSSES)}"})
    alpha: float = field(default=1.0, metadata={"help": "ACO's α in w = min(1, exp(-(A_l - A_w)/α))"})
    simpo_beta: float = field(default=2.0, metadata={"help": "SimPO's β"})
    simpo_gamma: float = field(default=1.0, metadata={"help": "SimPO's target margin γ"})
    ropo_alpha: float = field(default=0.2, metadata={"help": "ROPO's weight on σ(-β·h)"})
    ropo_gamma: float = field(default=0.1, metadata={"help": "ROPO's weight on the DPO term"})
    nll_weight: float = field(default=0.0, metadata={"help": "weight of the chosen side's per-token NLL added to the loss (RPO)"})
    precompute_ref_log_probs: bool = field(
        default=True, metadata={"help": "compute reference log-probs once before training (no reference model kept)"}
    )

    def __post_init__(self) -> None:
        if self.bf16 is None and not self.fp16:
            # TRL turns bf16 autocast on everywhere; on a CPU it is slow and blurs the small
            # log-prob differences the losses compare, so keep it to GPUs that support it.
            self.bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        if not torch.accelerator.is_available():
            # On a machine without GPUs, processes started by `accelerate launch` or torchrun
            # train together over gloo only when the trainer is told it runs on CPUs.
            self.use_cpu = True
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss '{self.loss}'; choose one of: {', '.join(LOSSES)}")
        if self.alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if self.nll_weight < 0:
            raise ValueError(f"nll_weight must be >= 0, got {self.nll_weight}")
        super().__post_init__()

    @property
    def loss_settings(self) -> LossSettings:
        return LossSettings(beta=self.beta, alpha=self.alpha, simpo_beta=self.simpo_beta,
                            simpo_gamma=self.simpo_gamma, ropo_alpha=self.ropo_alpha, ropo_gamma=self.ropo_gamma,
                            nll_weight=self.nll_weight)


@dataclass
class PreferenceCollatorWithAdvantages(DataCollatorForPreference):
    """TRL's preference collator, plus `advantage_chosen` / `advantage_rejected` tensors."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = super().torch_call(examples)
        for name in ADVANTAGE_COLUMNS:
            if name in examples[0]:
                batch[name] = torch.tensor([float(example[name]) for example in examples])
        return batch


class GeniusTrainer(DPOTrainer):
    """DPOTrainer computing the loss `args.loss` from `genius.losses`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.data_collator, DataCollatorForPreference) and not isinstance(
            self.data_collator, PreferenceCollatorWithAdvantages
        ):
            collator = self.data_collator
            self.data_collator = PreferenceCollatorWithAdvantages(
                pad_token_id=collator.pad_token_id, max_length=collator.max_length,
                truncation_mode=collator.truncation_mode, pad_to_multiple_of=collator.pad_to_multiple_of,
            )

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        """TRL's tokenisation, then the BOS token where the model sees one at inference.

        TRL tokenises chat-rendered text without special tokens, trusting the chat template to
        hold BOS. Where a template lacks it but the tokenizer adds BOS to plain text (the
        embedded arith model), the engines prepend it (`TransformersEngine.encode_prompt`), so
        training must too, or it would fit the model to a context it never decodes in.
        """
        dataset = super()._prepare_dataset(dataset, processing_class, args, dataset_name)
        bos = self._tokenizer.bos_token_id
        adds_bos = bos is not None and self._tokenizer("x")["input_ids"][:1] == [bos]
        if not adds_bos:
            return dataset

        def prepend_bos(example: dict[str, Any]) -> dict[str, Any]:
            ids = example["prompt_ids"]
            return {"prompt_ids": ids if ids[:1] == [bos] else [bos] + ids}

        return dataset.map(prepend_bos)

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        self._signature_columns = list(self._signature_columns) + [
            name for name in ADVANTAGE_COLUMNS if name not in self._signature_columns
        ]

    def _compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool):
        args: GeniusConfig = self.args
        mode = "train" if self.model.training else "eval"
        advantages = {name: inputs.pop(name) for name in ADVANTAGE_COLUMNS if name in inputs}
        if args.loss in NEEDS_ADVANTAGES and len(advantages) != len(ADVANTAGE_COLUMNS):
            raise ValueError(
                f"loss '{args.loss}' needs the columns {', '.join(ADVANTAGE_COLUMNS)}, but the batch reached the "
                "loss without them (a collator or remove_unused_columns dropped them)"
            )
        completion_mask = inputs["completion_mask"]
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)
        model_kwargs = {k: v for k, v in inputs.items() if k not in ("completion_mask", "ref_chosen_logps", "ref_rejected_logps")}
        outputs = model(**model_kwargs, use_cache=False, labels=labels, fused_lm_head=True)
        shift_mask = completion_mask[..., 1:]
        logps = outputs.log_probs[:, -shift_mask.size(1):].sum(dim=1)
        policy_chosen, policy_rejected = logps.chunk(2, dim=0)
        chosen_tokens, rejected_tokens = shift_mask.sum(dim=1).chunk(2, dim=0)
        if args.loss not in NEEDS_REFERENCE:
            reference_chosen, reference_rejected = torch.zeros_like(policy_chosen), torch.zeros_like(policy_rejected)
        elif self.precompute_ref_logps:
            reference_chosen, reference_rejected = inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        else:
            reference_chosen, reference_rejected = self.compute_ref_log_probs(
                self.ref_model if self.ref_model is not None else model, inputs
            )
        pairs = PairLogps(
            policy_chosen=policy_chosen, policy_rejected=policy_rejected,
            reference_chosen=reference_chosen.to(policy_chosen.device),
            reference_rejected=reference_rejected.to(policy_chosen.device),
            chosen_tokens=chosen_tokens, rejected_tokens=rejected_tokens,
            advantage_chosen=advantages.get("advantage_chosen"),
            advantage_rejected=advantages.get("advantage_rejected"),
        )
        loss = training_loss(args.loss, pairs, args.loss_settings).mean()
        self._log_pair_metrics(mode, pairs)
        return (loss, outputs) if return_outputs else loss

    def _log_pair_metrics(self, mode: str, pairs: PairLogps) -> None:
        """The usual preference metrics (rewards, margins, accuracy), averaged over devices."""
        beta = self.args.beta
        chosen = self.accelerator.gather(beta * pairs.chosen_logratio.detach())
        rejected = self.accelerator.gather(beta * pairs.rejected_logratio.detach())
        metrics = self._metrics[mode]
        metrics["rewards/chosen"].append(chosen.mean().item())
        metrics["rewards/rejected"].append(rejected.mean().item())
        metrics["rewards/accuracies"].append((chosen > rejected).float().mean().item())
        metrics["rewards/margins"].append((chosen - rejected).mean().item())
        metrics["logps/chosen"].append(self.accelerator.gather(pairs.policy_chosen.detach()).mean().item())
        metrics["logps/rejected"].append(self.accelerator.gather(pairs.policy_rejected.detach()).mean().item())

"""`foresight show`: one question's search, as a readable tree.

The record's trace is read back as its strategy's trace type. Step searches (phi, predictive)
show each step's candidates with their score, foresight, F, A, cluster, C and weight, which were
pruned and which selected, and why stepping stopped; sampling strategies show their samples
with answers and mean log-probs; MCTS its tree with visits and Q; guided decoding each
candidate's verdict, p(correct) and path score; any other trace (a strategy this module knows nothing about)
shows its fields as a tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.tree import Tree

from foresight.errors import DataError
from foresight.eval.runs import load_records, read_identity
from foresight.strategies import Trace, read_trace
from foresight.strategies.guided import GuidedTrace, Judgement
from foresight.strategies.mcts import MCTSTrace
from foresight.strategies.sampling import BestOfNTrace, VoteTrace
from foresight.strategies.step_traces import StepSearchTrace
from foresight.strategies.tot import Ballot, TotTrace
from foresight.strategies.wsc import WeightedVoteTrace


def load_record(run_dir: Path, question_id: str) -> tuple[dict[str, Any], Trace | dict[str, Any]]:
    """The record of `question_id` in `run_dir/records.jsonl` and its trace read as its strategy's
    trace type, or a DataError saying what exists."""
    path = run_dir / "records.jsonl"
    if not path.is_file():
        raise DataError(f"{run_dir}: no records.jsonl here; give a run directory such as runs/arith-arith/phi")
    identity = read_identity(run_dir)
    records = load_records(run_dir, identity)
    if question_id in records:
        record = records[question_id]
        try:
            return record, read_trace(identity["strategy"]["name"], record["trace"])
        except DataError as exc:
            raise DataError(f"{path}: the trace of question '{question_id}' cannot be read: {exc}") from None
    ids = list(records)
    preview = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    raise DataError(f"{path}: no question '{question_id}' among {len(ids)} records ({preview})")


def _short(text: str, width: int = 90) -> str:
    flat = text.replace("\n", " | ")
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def render_record(record: dict[str, Any], trace: Trace | dict[str, Any]) -> Tree:
    mark = "[green]correct[/]" if record["correct"] else "[red]wrong[/]"
    tree = Tree(f"[bold]{record['id']}[/] ({record['strategy']}): {_short(record['question'], 120)}")
    tree.add(f"gold {record['gold']}  prediction {record['prediction']}  {mark}  "
             f"{record['generated_tokens']} generated tokens")
    if isinstance(trace, (VoteTrace, BestOfNTrace)):
        samples = tree.add("samples")
        chosen_index = trace.chosen if isinstance(trace, BestOfNTrace) else None
        for i, sample in enumerate(trace.samples):
            chosen = " [bold]chosen[/]" if chosen_index == i else ""
            samples.add(f"answer {sample.answer}  mean log-prob {sample.mean_logprob:.3f}{chosen}: {_short(sample.text)}")
    elif isinstance(trace, StepSearchTrace):
        _add_steps(tree, trace)
    elif isinstance(trace, TotTrace):
        _add_tot(tree, trace)
    elif isinstance(trace, WeightedVoteTrace):
        _add_weighted_vote(tree, trace)
    elif isinstance(trace, MCTSTrace):
        _add_mcts(tree, trace)
    elif isinstance(trace, GuidedTrace):
        _add_guided(tree, trace)
    elif isinstance(trace, Trace):
        _add_fields(tree.add(trace.title or type(trace).__name__), trace.to_json())
    else:  # a strategy that is not registered (any more): the stored JSON as it is
        _add_fields(tree.add("trace"), trace)
    tree.add(f"response: {_short(record['response'], 160)}")
    return tree


def _add_fields(node: Tree, value: dict[str, Any]) -> None:
    """Any trace, field by field: values on one line, lists and objects as branches."""
    for key, item in value.items():
        if isinstance(item, dict):
            _add_fields(node.add(str(key)), item)
        elif isinstance(item, list) and any(isinstance(v, (dict, list)) for v in item):
            branch = node.add(str(key))
            for i, v in enumerate(item):
                if isinstance(v, dict):
                    _add_fields(branch.add(str(i)), v)
                else:
                    branch.add(f"{i}: {_short(str(v))}")
        else:
            node.add(f"{key}: {_short(str(item)) if isinstance(item, str) else item}")


def _add_steps(tree: Tree, trace: StepSearchTrace) -> None:
    for step in trace.steps:
        title = f"step {step.step}"
        if step.filter is not None:  # phi's positive-advantage filter
            title += f"  A>0 filter: {step.filter.qualified} qualified"
            title += "  [yellow]fallback: softmax(A/tau1) over all kept[/]" if step.filter.fallback else ""
        branch = tree.add(title + (f"  [yellow]stop: {step.stop}[/]" if step.stop else ""))
        for c in step.candidates:
            status = "[bold green]selected[/]" if c.selected else ("kept" if c.kept else "[dim]pruned[/]")
            if c.topped_up:
                status += " (topped up)"
            if c.qualified is not None and c.kept:
                status += " passed filter" if c.qualified else " [dim]filtered out[/]"
            values = f"s={c.score:.3f}"
            if c.kept:
                values += f" F={c.F:.3f} A={c.A:+.3f} cluster={c.cluster} C={c.C:.2f} w={c.weight:.3f}"
            node = branch.add(f"beam {c.beam} {status} {_short(c.text, 40)!r}  {values}")
            if c.foresight:
                node.add(f"[dim]foresight: {_short(c.foresight)}[/]")
    if trace.stop_reason is not None:
        tree.add(f"stepping stopped: {trace.stop_reason}")
    final = trace.final
    node = tree.add("final completions" + ("  [yellow]fallback: softmax(A/tau1) over all[/]" if final.fallback else ""))
    for i, completion in enumerate(final.completions):
        details = "".join(f"{name}={value:{form}} " for name, value, form in (
            ("A", completion.A, "+.3f"), ("C", completion.C, ".2f"), ("w", completion.weight, ".3f")) if value is not None)
        if completion.qualified is False:
            details += "[dim]filtered out[/] "
        chosen = "[bold green]chosen[/] " if final.chosen == i else ""
        node.add(f"{chosen}{details}{_short(completion.text)}")


def _add_ballots(node: Tree, ballots: list[Ballot]) -> None:
    for ballot in ballots:
        counted = ("abstained" if ballot.voted is None else f"vote for {ballot.voted}"
                   + (" (random: no parsable id)" if ballot.parsed is None else ""))
        node.add(f"[dim]{counted}: {_short(ballot.text, 60)}[/]")


def _add_tot(tree: Tree, trace: TotTrace) -> None:
    """Tree-of-Thought: per step the candidates (1-based ids, as the vote prompt lists them)
    with their votes, and the ballots; then the vote among the completed beams."""
    for step in trace.steps:
        branch = tree.add(f"step {step.step}")
        _add_ballots(branch.add(f"votes ({len(step.ballots)})"), step.ballots)
        for i, c in enumerate(step.candidates, start=1):
            status = "[bold green]selected[/]" if c.selected else "[dim]dropped[/]"
            end = " (ends the solution)" if c.terminal else ""
            branch.add(f"{i}. beam {c.beam} {status} votes={c.votes} s={c.score:.3f}{end} {_short(c.text, 50)!r}")
    if trace.stop_reason:
        tree.add(f"stepping stopped: {trace.stop_reason}")
    node = tree.add("final vote" if trace.final_ballots else "final solution (one beam: no vote)")
    _add_ballots(node, trace.final_ballots)
    for i, solution in enumerate(trace.solutions):
        chosen = "[bold green]chosen[/] " if trace.chosen == i else ""
        node.add(f"{chosen}{i + 1}. votes={solution.votes} s={solution.score:.3f} {_short(solution.text)}")


def _add_weighted_vote(tree: Tree, trace: WeightedVoteTrace) -> None:
    """Weighted self-consistency: the answers' shares of the weight, then every sample."""
    tally = tree.add("weighted tally")
    for entry in trace.tally:
        tally.add(f"answer {entry.answer}: share {entry.share:.3f} of the weight, {entry.samples} samples")
    samples = tree.add("samples")
    for i, (sample, weight) in enumerate(zip(trace.samples, trace.log_weights)):
        chosen = " [bold]chosen[/]" if trace.chosen == i else ""
        samples.add(f"answer {sample.answer}  log weight {weight:.3f}  mean log-prob {sample.mean_logprob:.3f}{chosen}: "
                    f"{_short(sample.text)}")
def _add_mcts(tree: Tree, trace: MCTSTrace) -> None:
    """The search tree (visits, Q, reward of every node; the answer's path in green), then each
    iteration's path and return."""
    on_path = set(trace.answer_path)
    branches: dict[int, Tree] = {0: tree.add("search tree (root)")}
    for index, node in enumerate(trace.nodes[1:], start=1):
        q = "unvisited" if node.Q is None else f"Q={node.Q:.3f}"
        mark = " [bold green]answer path[/]" if index in on_path else ""
        end = " [yellow]terminal[/]" if node.terminal else ""
        branches[index] = branches[node.parent].add(
            f"#{index} visits {node.visits} {q} r={node.reward:.3f}{end}{mark} {_short(node.text, 60)!r}")
    iterations = tree.add("iterations")
    for i, it in enumerate(trace.iterations, start=1):
        iterations.add(f"{i}: path {'>'.join(map(str, it.path))}  return {it.value:.3f}" + ("  terminal" if it.terminal else ""))
    tree.add("answer: [yellow]no terminal path; the best path was completed[/]: " + _short(trace.completion)
             if trace.completed else "answer: the best terminal path")


def _verdict(judgement: Judgement | None) -> str:
    if judgement is None:
        return "no judgement (finished)"
    return f"verdict {judgement.verdict or '?'} ({judgement.token!r}) p(correct)={judgement.p_correct:.3f}"


def _add_guided(tree: Tree, trace: GuidedTrace) -> None:
    """Each step's candidates with their verdict, p(correct), path score E and draw weight."""
    for step in trace.steps:
        branch = tree.add(f"step {step.step}  tau={step.tau:.3g}")
        for c in step.candidates:
            status = "[bold green]selected[/]" if c.selected else "not drawn"
            branch.add(f"beam {c.beam} {status} {_short(c.text, 40)!r}  s={c.score:.3f} {_verdict(c.judgement)} "
                       f"E={c.E:.4f} w={c.weight:.3f}")
    tree.add(f"stepping stopped: {trace.stop_reason}")
    node = tree.add(f"final completions  tau={trace.tau:.3g}")
    for i, final in enumerate(trace.final):
        chosen = "[bold green]chosen[/] " if trace.chosen == i else ""
        node.add(f"{chosen}{_verdict(final.judgement)} E={final.E:.4f} w={final.weight:.3f} {_short(final.text)}")


def show(run_dir: Path, question_id: str, console: Console | None = None) -> None:
    (console or Console()).print(render_record(*load_record(run_dir, question_id)))

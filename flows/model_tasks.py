"""Build and verify the run's models side by side, with Prefect tasks sized so orchestration stays small.

A model starts once every upstream model of the run has built; up to `threads` (elt.toml, per target) build
or verify at once, each on a worker connection of its own (DuckDB: a cursor of the run's connection;
Postgres: a connection per worker). A model that fails to build skips what is downstream of it; the others
still build and verify, then the run fails naming it, and nothing is published. A failed check stops
nothing here: the gate decides, after every model.

A Prefect task run costs the flow ~10 ms of CPU and the server the work of its events, and Prefect walks
every argument of a task looking for futures (the run's plan passed to each task cost ~130 ms per task at
100 models, growing with the project). So tasks get the run quoted, carry no tags (each tag set is one
concurrency-lease request per task run), and their number is bounded (bench/orchestration.py):
- a model whose version is the one published, and passed the contract it has now (elt/verified.py), has
  nothing to do: no task, no query, so a no-op run creates no model task;
- up to PER_MODEL_TASKS models to do: a `build-<model>` task each, and a `verify-<model>` task with its
  build as input (and, waited for, the builds of other models its contract reads as ${ref.MODEL}), each
  model submitted when its upstream builds are done;
- more: one `build-wave-<n>` and one `verify-wave-<n>` task per dependency wave (its models run on a pool
  of `threads` workers, each verified as its build ends), with a log record per model and the run's table.
"""
from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import copy_context
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRunResult
from prefect.futures import PrefectFuture
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from checks.contracts import Contract
from checks.gate import describe
from checks.verify import CheckOutcome, preload, verify_build
from checks.volume import volume_change
from elt import verified
from elt.errors import BuildError, EltError
from elt.warehouse import INTERNAL_SCHEMA, Warehouse
from transforms.build import BuildResult, build_model
from transforms.plan import Plan

log = logging.getLogger("elt.flow")
# Soda Core 4.28 parses every contract with one class-level ruamel YAML parser: two verifications at once
# fail inside it (AttributeError/IndexError in ruamel's composer). One at a time, then, until checks/
# gives each thread its own parser; builds still run beside the verification.
SODA_ONE_AT_A_TIME = threading.Lock()
PER_MODEL_TASKS = 50  # more models to build than this: tasks per wave (~20 ms of orchestration per model saved)


class ModelRun:
    """One run's build-and-verify state, shared by the flow and the worker threads (handed to tasks quoted)."""

    def __init__(self, wh: Warehouse, plan: Plan, versions: Any, contracts: dict[str, Contract], now: datetime,
                 published: dict[str, str], threads: int, passed: dict[str, str] | None = None) -> None:
        self.wh, self.plan, self.versions, self.contracts, self.now = wh, plan, versions, contracts, now
        self.published, self.threads = published, threads
        self.passed = passed or {}  # relation -> digest of the contract it passed (elt.verified)
        self.results: dict[str, BuildResult] = {}
        self.outcomes: dict[str, list[CheckOutcome]] = {}
        self.errors: dict[str, BaseException] = {}  # model -> why its build (or verification) failed
        self._lock = threading.Lock()
        self._idle: list[Warehouse] = []
        self._opened: list[Warehouse] = []
        self.pool: ThreadPoolExecutor | None = None  # per-wave tasks: the `threads` workers they share
        self.stopping = threading.Event()
        self.blocked: dict[str, str] = {}  # model not built -> the failed model upstream that stopped it
        self._inboxes: dict[str, queue.SimpleQueue[str]] = {}  # model -> where it is announced, ready to verify
        self._awaiting: dict[str, set[str]] = {}  # model -> builds it waits for before it is verified
        self.progress: Callable[[float], None] | None = None  # told the fraction of builds and verifications done
        self.steps, self.done = 0, 0

    # --- worker connections -------------------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[Warehouse]:
        """A worker connection for one unit of work: at most `threads` are opened, each reused."""
        with self._lock:
            wh = self._idle.pop() if self._idle else None
        if wh is None:
            wh = self.wh.worker()
            with self._lock:
                self._opened.append(wh)
        try:
            yield wh
        finally:
            with self._lock:
                self._idle.append(wh)

    def interrupt(self) -> None:
        """Stop the statements in flight (Ctrl-C, SIGTERM): a thread cannot be stopped, its query can; work
        not yet started does not start."""
        self.stopping.set()
        for wh in list(self._opened):
            wh.interrupt()

    def close(self) -> None:
        for wh in self._opened:
            wh.close()
        self._opened.clear()

    # --- units of work ------------------------------------------------------------------------------
    def unchanged(self, name: str) -> bool:
        """The model's version is the one published, and passed the contract it has now: nothing to do."""
        relation = self.versions[name].relation
        return self.published.get(name) == relation and self._checked(name, relation)

    def _checked(self, name: str, relation: str) -> bool:
        return name not in self.contracts or self.passed.get(relation) == self.digest(name)

    def digest(self, name: str) -> str:
        return contract_digest(self.contracts[name], ref_relations(self.contracts[name], self.versions, self.published))

    def upstream(self, name: str, within: set[str]) -> list[str]:
        return [u for u in self.plan.models[name].model_refs if u in within]

    def verify_after(self, name: str, within: set[str]) -> list[str]:
        """The other models of `within` whose builds `name`'s contract reads (${ref.MODEL}): it is verified
        once they are built, against the versions published with it."""
        contract = self.contracts.get(name)
        return sorted(r for r in contract.refs if r in within and r != name) if contract else []

    def build_one(self, name: str) -> BuildResult:
        """Build one model (skipped when an upstream model failed); failures are recorded and raised."""
        try:
            return self._build(name)
        finally:
            self._announce(name)
            self.step_done()

    def step_done(self) -> None:
        with self._lock:
            self.done += 1
            fraction = self.done / self.steps if self.steps else 1.0
        if self.progress is not None:
            try:
                self.progress(min(fraction, 1.0))
            except Exception as err:  # the progress bar must not fail a model
                log.debug("progress not updated: %s", err)

    def _announce(self, built: str) -> None:
        """Put each watched model whose last awaited build was `built` into its inbox."""
        with self._lock:
            ready = _ready_to_verify(self._awaiting, built)
        for name in ready:
            self._inboxes[name].put(name)

    def _build(self, name: str) -> BuildResult:
        version = self.versions[name]
        failed = [self.blocked.get(u, u) for u in self.plan.models[name].model_refs if self._failed(u)]
        if failed:
            result = self.skip(name, failed[0])
        else:
            try:
                if self.stopping.is_set():
                    raise EltError(f"model {name}: not built, the run is stopping")
                with self.connection() as wh:
                    result = build_model(wh, self.plan.models[name], self.versions)
            except Exception as err:
                with self._lock:
                    self.errors[name] = err
                    self.results[name] = BuildResult(name, version.relation, version.materialized, "failed", 0.0,
                                                     None)
                raise
        with self._lock:
            self.results[name] = result
        return result

    def watch(self, names: list[str], within: set[str]) -> queue.SimpleQueue[str]:
        """A queue that receives each of `names` once its build, and those its contract reads, have finished
        (whatever the outcome)."""
        inbox: queue.SimpleQueue[str] = queue.SimpleQueue()
        for name in names:
            self._inboxes[name] = inbox
            self._awaiting[name] = {name, *self.verify_after(name, within)}
        return inbox

    def skip(self, name: str, failed: str) -> BuildResult:
        """`name` is not built: `failed`, a model it reads (maybe through others), did not build."""
        version = self.versions[name]
        result = BuildResult(name, version.relation, version.materialized, f"skipped: upstream {failed} failed",
                             0.0, None)
        log.warning("%s: not built, upstream model %s failed", name, failed)
        with self._lock:
            self.blocked[name] = failed
            self.results[name] = result
        return result

    def _failed(self, name: str) -> bool:
        result = self.results.get(name)
        return result is not None and (result.status == "failed" or result.status.startswith("skipped:"))

    def needs_verify(self, name: str) -> bool:
        """A built model with a contract; not one that failed (or a model its contract reads did) or whose
        relation already passed the gate."""
        result = self.results.get(name)
        if name not in self.contracts or result is None or result.status not in ("built", "skipped"):
            return False
        if any(self._failed(r) for r in self.contracts[name].refs):
            return False
        return not (result.status == "skipped" and self.published.get(name) == result.relation
                    and self._checked(name, result.relation))

    def verify_one(self, build: BuildResult) -> list[CheckOutcome]:
        try:
            if self.stopping.is_set():
                raise EltError(f"model {build.model}: not verified, the run is stopping")
            with SODA_ONE_AT_A_TIME, self.connection() as wh:
                contract = self.contracts[build.model]
                outcomes = verify_build(wh, contract, build.audited, self.now, candidate=build.relation,
                                        refs=ref_relations(contract, self.versions, self.published))
                if contract.volume_change is not None:
                    outcomes.append(volume_change(wh, build.model, build.relation, self.published.get(build.model),
                                                  contract.volume_change))
        except Exception as err:
            with self._lock:
                self.errors[build.model] = err
            raise
        finally:
            self.step_done()
        failed = [o for o in outcomes if not o.passed]
        log.info("verified %s: %d check(s), %s", build.model, len(outcomes),
                 f"{len(failed)} did not pass" if failed else "all passed")
        with self._lock:
            self.outcomes[build.model] = outcomes
        return outcomes

    def in_parallel(self, work: Callable[[str], Any], names: list[str]) -> list[str]:
        """`work` on each name in the run's pool, each in a copy of this thread's context (so its logs go to
        the calling task's run); returns the names whose work raised (already recorded)."""
        futures = {name: self.in_parallel_one(work, name) for name in names}
        return [name for name, future in futures.items() if future.exception() is not None]

    def in_parallel_one(self, work: Callable[[Any], Any], item: Any) -> Future[Any]:
        assert self.pool is not None, "in_parallel runs inside _per_wave"
        return self.pool.submit(copy_context().run, work, item)


@task(name="build", task_run_name="build-{name}", cache_policy=NO_CACHE)
def build(run: ModelRun, name: str) -> BuildResult:
    return run.build_one(name)


@task(name="verify", task_run_name="verify-{name}", cache_policy=NO_CACHE)
def verify(run: ModelRun, name: str, build: BuildResult) -> list[CheckOutcome] | State:
    """Failed, with the checks in its message, when a check did not pass: the run graph is red where the gate
    will block (the gate, after every model, decides; nothing is retried)."""
    outcomes = run.verify_one(build)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        return Failed(message=f"{len(failed)} of {len(outcomes)} check(s) did not pass: "
                      + "; ".join(describe(o) for o in failed))
    return outcomes


@task(name="build-wave", task_run_name="build-wave-{wave}", cache_policy=NO_CACHE)
def build_wave(run: ModelRun, wave: int, names: list[str]) -> int:
    """Every model of one dependency wave, `threads` at a time."""
    failed = run.in_parallel(run.build_one, names)
    if failed:
        raise BuildError(f"{len(failed)} of {len(names)} model(s) failed to build: {', '.join(failed)}")
    return len(names)


@task(name="verify-wave", task_run_name="verify-wave-{wave}", cache_policy=NO_CACHE)
def verify_wave(run: ModelRun, wave: int, names: list[str], inbox: queue.SimpleQueue[str], built: UUID
                ) -> int | State:
    """The contracts of the wave's models, each verified as soon as its build (and those of the models its
    contract reads) is done, on the workers the builds use (this task's thread only waits, so it never holds
    a worker a build needs). `built`: the wave's build task, recorded as this task's upstream."""
    verifying: dict[str, Future[Any]] = {}
    for _ in names:
        while True:
            try:
                name = inbox.get(timeout=0.5)
                break
            except queue.Empty:
                if run.stopping.is_set():
                    raise EltError("verification stopped: the run is stopping") from None
        if run.needs_verify(name):
            verifying[name] = run.in_parallel_one(run.verify_one, run.results[name])
    failed = [name for name, future in verifying.items() if future.exception() is not None]
    if failed:
        raise BuildError(f"{len(failed)} of {len(verifying)} verification(s) raised: {', '.join(failed)}")
    blocked = {name: [o for o in run.outcomes[name] if not o.passed] for name in verifying}
    blocked = {name: failures for name, failures in blocked.items() if failures}
    if blocked:
        return Failed(message="checks did not pass: " + "; ".join(
            f"{name}: {describe(o)}" for name, failures in blocked.items() for o in failures))
    return len(verifying)


def contract_digest(contract: Contract, refs: dict[str, str]) -> str:
    """What a version passed: the contract, and the versions of the models it reads (${ref.MODEL})."""
    text = json.dumps([contract.document, refs], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ref_relations(contract: Contract, versions: Any, published: dict[str, str]) -> dict[str, str]:
    """Model -> relation of each model the contract reads: the run's version, else the published one."""
    found = {m: versions[m].relation if m in versions else published.get(m) for m in contract.refs}
    return {m: relation for m, relation in found.items() if relation}


def build_and_verify(wh: Warehouse, plan: Plan, versions: Any, contracts: dict[str, Contract], chosen: list[str],
                     now: datetime, published: dict[str, str], threads: int,
                     progress: Callable[[float], None] | None = None) -> tuple[list[BuildResult], list[CheckOutcome]]:
    """Build the `chosen` models (topological order) and verify their contracts, `threads` at a time.

    `published`: model -> relation of the publication in effect. `progress`: told the fraction of builds and
    verifications done, as each ends. Returns the builds in `chosen` order and every check outcome; raises
    BuildError naming each model that failed, once all others are done.
    """
    run = ModelRun(wh, plan, versions, contracts, now, published, threads, verified.passed(wh))
    run.progress = progress
    todo = [name for name in chosen if not run.unchanged(name)]
    for name in sorted(set(chosen) - set(todo)):
        version = versions[name]
        run.results[name] = BuildResult(name, version.relation, version.materialized, "skipped", 0.0, None)
    if len(todo) < len(chosen):
        log.info("%d of %d model(s) unchanged since the publication in effect: not built, not verified again",
                 len(chosen) - len(todo), len(chosen))
    if todo:
        run.steps = len(todo) + sum(name in contracts for name in todo)
        if any(name in contracts for name in todo):
            preload()
        started = time.perf_counter()
        wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")  # once, before workers would race to create it
        try:
            (_per_model if len(todo) <= PER_MODEL_TASKS else _per_wave)(run, todo)
        except BaseException:
            run.interrupt()
            raise
        finally:
            run.close()
        built = sum(r.status == "built" for r in run.results.values())
        log.info("models built and verified: %d built, %d verified, in %.2fs", built, len(run.outcomes),
                 time.perf_counter() - started)
    builds = [run.results[name] for name in chosen]
    outcomes = [o for name in sorted(run.outcomes) for o in run.outcomes[name]]
    if run.errors:
        raise _failure(run, builds, outcomes)
    return builds, outcomes


def remember_verified(wh: Warehouse, builds: list[BuildResult], contracts: dict[str, Contract],
                      outcomes: list[CheckOutcome], versions: Any, published: dict[str, str]) -> None:
    """After a gate that passed: which contract each verified version passed (the next run skips it)."""
    checked = {o.model for o in outcomes} & set(contracts)  # schema_change outcomes need no contract
    verified.record(wh, {b.relation: contract_digest(contracts[b.model], ref_relations(contracts[b.model], versions,
                                                                                     published))
                         for b in builds if b.model in checked})


def _per_model(run: ModelRun, todo: list[str]) -> None:
    """One task per model and step; a model's build is submitted when its last upstream build is done."""
    members = set(todo)
    waiting = {name: set(run.upstream(name, members)) for name in todo}
    downstream: dict[str, list[str]] = {name: [] for name in todo}
    for name in todo:
        for up in waiting[name]:
            downstream[up].append(name)
    done: queue.SimpleQueue[tuple[str, PrefectFuture]] = queue.SimpleQueue()
    verifies: list[PrefectFuture] = []
    builds: dict[str, PrefectFuture] = {}
    to_verify = {name: {name, *run.verify_after(name, members)} for name in todo if name in run.contracts}
    with ThreadPoolTaskRunner(max_workers=run.threads) as runner:
        def start(name: str) -> None:
            builds[name] = runner.submit(build, {"run": quote(run), "name": name})
            builds[name].add_done_callback(lambda f: done.put((name, f)))

        running = 0
        for name in todo:
            if not waiting[name]:
                start(name)
                running += 1
        while running:
            name, future = done.get()
            running -= 1
            future.wait()  # sets the final state locally (else reading it asks the API)
            ok = future.state.is_completed()
            for ready in _ready_to_verify(to_verify, name):
                if run.needs_verify(ready):  # its contract's other models are built: a graph edge from each
                    verifies.append(runner.submit(verify, {"run": quote(run), "name": ready, "build": builds[ready]},
                                                  wait_for=[builds[r] for r in run.verify_after(ready, members)]))
            for child in downstream[name]:
                waiting[child].discard(name)
                if not waiting[child]:
                    if ok:
                        start(child)
                        running += 1
                    else:
                        _skip_below(run, child, name, downstream)
        for future in verifies:
            future.wait()


def _ready_to_verify(to_verify: dict[str, set[str]], built: str) -> list[str]:
    """The models whose last awaited build was `built` (each awaits its own and those its contract reads)."""
    ready = []
    for name, waits in list(to_verify.items()):
        waits.discard(built)
        if not waits:
            ready.append(name)
            del to_verify[name]
    return ready


def _skip_below(run: ModelRun, name: str, failed: str, downstream: dict[str, list[str]]) -> None:
    """`name` and everything below it are not built: `failed` (upstream) did not build."""
    stack = [name]
    while stack:
        current = stack.pop()
        if current in run.results:
            continue
        run.skip(current, run.blocked.get(failed, failed))
        stack.extend(downstream[current])


def _per_wave(run: ModelRun, todo: list[str]) -> None:
    """One build task and one verify task per dependency wave; the waves' models share `threads` workers.

    A wave's verify task starts with its build task and verifies each model as its build finishes; it names
    the build task as its upstream (`dependencies`: an edge in the run graph, without waiting for it).
    """
    members = set(todo)
    depth: dict[str, int] = {}
    for name in todo:  # topological: upstream depths are known
        depth[name] = 1 + max((depth[u] for u in run.upstream(name, members)), default=-1)
    waves = [[n for n in todo if depth[n] == d] for d in range(max(depth.values()) + 1)]
    # A model is verified in the wave where the last build its contract waits for is (its own, or ${ref.X}'s).
    verified_in = {n: max(depth[m] for m in (n, *run.verify_after(n, members))) for n in todo if n in run.contracts}
    checked = [[n for n in todo if verified_in.get(n) == d] for d in range(len(waves))]
    inboxes = [run.watch(names, members) for names in checked]  # before any build: each build announces itself
    log.info("%d models to build: one build and one verify task per wave (%s models)", len(todo),
             "/".join(str(len(w)) for w in waves))
    verifies: list[PrefectFuture] = []
    built_waves: list[UUID] = []
    # The tasks hand their models to the pool: the pool, not the task runner, bounds the SQL at `threads`.
    with ThreadPoolExecutor(max_workers=run.threads, thread_name_prefix="elt-model") as run.pool, \
            ThreadPoolTaskRunner(max_workers=len(waves) + 1) as runner:
        for number, names in enumerate(waves, start=1):
            built = runner.submit(build_wave, {"run": quote(run), "wave": number, "names": names})
            built_waves.append(built.task_run_id)
            if checked[number - 1]:
                after = {built_waves[depth[m]] for n in checked[number - 1] for m in (n, *run.verify_after(n, members))}
                verifies.append(runner.submit(
                    verify_wave, {"run": quote(run), "wave": number, "names": checked[number - 1],
                                  "inbox": quote(inboxes[number - 1]), "built": built.task_run_id},
                    dependencies={"built": {TaskRunResult(id=i) for i in after}}))
            built.wait()  # the next wave reads this one
        for future in verifies:
            future.wait()


def _failure(run: ModelRun, builds: list[BuildResult], outcomes: list[CheckOutcome]) -> BuildError:
    """One error naming every model that failed, what it skipped, and that nothing was published."""
    lines = [str(err) for _, err in sorted(run.errors.items())]
    skipped = [b.model for b in builds if b.status.startswith("skipped:")]
    message = (f"{len(run.errors)} model(s) failed: {', '.join(sorted(run.errors))}; nothing was published\n  "
               + "\n  ".join(lines))
    if skipped:
        message += f"\n  not built because an upstream model failed: {', '.join(skipped)}"
    return BuildError(message, builds=builds, outcomes=outcomes)

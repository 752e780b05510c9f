"""The pools that run jobs: local worker processes and Ray give the numbers an in-process run gives, stop
on request, survive a killed worker, and enforce a hard time cap."""
import asyncio
import os
import signal

import pytest

from lora_demo.config import config_from_flat
from lora_demo.jobs.payload import JobError
from lora_demo.links import DEFAULTS
from lora_demo.engine import train
from lora_demo.workers.local import LocalPool

QUICK = dict(DEFAULTS, n_samples=120, pretrain_steps=60, adapt_steps=60)
SLOW = dict(DEFAULTS, pretrain_steps=2000, adapt_steps=2000)  # tens of seconds: only ever stopped


def run(coro):
    return asyncio.run(coro)


async def final(pool, values, seconds=60.0):
    last = None
    async for update in pool.stream("train", values, "en", seconds):
        last = update
    assert last is not None and last.final
    return last.outputs["metrics"]


@pytest.fixture(scope="module")
def pool():
    p = LocalPool(2)
    assert p.wait_ready(180)
    yield p
    p.close()


def in_process(values) -> dict:
    res = train(config_from_flat(values)).result
    return {"accuracy": res.accuracy, "final_loss": res.final_loss}


def test_workers_give_the_in_process_numbers_whichever_runs_them(pool):
    settings = [dict(QUICK, seed=s, rank=r, target_modules=t) for s, r, t in
                ((0, 2, ["fc2"]), (1, 3, ["fc1", "fc2"]), (2, 1, ["fc3"]))]

    async def all_at_once():
        return await asyncio.gather(*(final(pool, s) for s in settings))
    for got, values in zip(run(all_at_once()), settings):
        expected = in_process(values)
        assert got["accuracy"] == expected["accuracy"] and got["final_loss"] == expected["final_loss"]
        assert got["config"] == config_from_flat(values).to_dict()


def test_a_worker_answers_a_job_it_has_done_from_memory(pool):
    values = dict(QUICK, seed=41)

    async def three_in_a_row():
        return [await final(pool, values) for _ in range(3)]
    metrics = run(three_in_a_row())
    assert all(m["accuracy"] == in_process(values)["accuracy"] for m in metrics)
    # three runs on two workers: one worker did this job twice, and the second time sent the first time's
    # metrics, its run time included (two trainings never take the same number of seconds to the last bit)
    seconds = [m["seconds"] for m in metrics]
    assert len(set(seconds)) < 3
    assert run(final(pool, dict(values, seed=42)))["seconds"] not in seconds


def test_jobs_that_share_a_base_give_the_in_process_numbers(pool):
    """Three adapters on one base, one after another on two workers: one worker recalls the base it pretrained
    (lora_demo.bases), and its numbers are still the in-process run's."""
    settings = [dict(QUICK, seed=43, rank=r, target_modules=t) for r, t in ((1, ["fc2"]), (4, ["fc1"]), (2, ["fc3"]))]

    async def one_by_one():
        return [await final(pool, s) for s in settings]
    for got, values in zip(run(one_by_one()), settings):
        expected = in_process(values)
        assert got["accuracy"] == expected["accuracy"] and got["final_loss"] == expected["final_loss"]


def test_a_stopped_job_ends_in_its_worker_and_the_worker_serves_on(pool):
    async def stop_then_run():
        before = pool.replaced
        stream = pool.stream("train", SLOW, "en", 60)
        first = await anext(stream)
        await stream.aclose()  # what Stop, a new click or a closed tab does
        # both workers serve the next two jobs: the stopped one was freed, not killed and replaced
        results = await asyncio.gather(final(pool, QUICK), final(pool, dict(QUICK, seed=5)))
        return first, results, pool.replaced - before
    first, results, replaced = run(stop_then_run())
    assert first.progress == 0.0 and not first.final
    assert replaced == 0
    assert results[0]["accuracy"] == in_process(QUICK)["accuracy"]


def test_a_killed_worker_fails_only_its_own_job_and_is_replaced(pool):
    async def kill_one():
        before = pool.replaced
        doomed = pool.stream("train", SLOW, "en", 60)
        await anext(doomed)
        busy = next(w for w in pool._workers if w.job_id is not None)
        other = asyncio.ensure_future(final(pool, QUICK))  # runs on the other worker meanwhile
        os.kill(busy.process.pid, signal.SIGKILL)
        with pytest.raises(JobError) as err:
            async for _ in doomed:
                pass
        survivor = await other
        after = await final(pool, dict(QUICK, seed=7))  # the next run works
        for _ in range(200):  # the replacement forks from the forkserver and warms up in the background
            if len(pool.stats()["pids"]) == 2:
                break
            await asyncio.sleep(0.05)
        return err.value, survivor, after, pool.replaced - before
    error, survivor, after, replaced = run(kill_one())
    assert error.kind == "worker_died" and "stopped unexpectedly" in error.message
    assert survivor["accuracy"] == in_process(QUICK)["accuracy"]
    assert after["accuracy"] == in_process(dict(QUICK, seed=7))["accuracy"]
    assert replaced == 1 and len(pool.stats()["pids"]) == 2


def test_hard_cap_and_errors_cross_the_process_boundary(pool):
    async def failures():
        kinds = []
        for values, seconds in ((SLOW, 0.5), (dict(QUICK, lr=10), 30), (dict(QUICK, rank=999), 30)):
            with pytest.raises(JobError) as err:
                await final(pool, values, seconds)
            kinds.append((err.value.kind, err.value.message))
        return kinds
    (cap, cap_msg), (diverged, div_msg), (invalid, inv_msg) = run(failures())
    assert cap == "too_long" and "0.5 s" in cap_msg
    assert diverged == "diverged" and "Lower the learning rate" in div_msg
    assert invalid == "invalid" and "lora.rank" in inv_msg  # a worker checks its input again


def test_pool_size_comes_from_the_environment():
    from lora_demo.workers import make_pool
    assert make_pool({"LORA_WORKERS": "3"}).size == 3
    assert make_pool({}).size == len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match="LORA_WORKERS"):
        make_pool({"LORA_WORKERS": "two"})
    inline = "threads of the web process"
    assert make_pool({"LORA_WORKERS": "0"}).name == make_pool({"SPACES_ZERO_GPU": "true"}).name == inline


ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_pool():
    from lora_demo.workers.ray_pool import RayPool
    p = RayPool("local", num_cpus=2)
    p.launch()
    yield p
    p.close()


def test_ray_gives_the_same_numbers_and_stops(ray_pool, pool):
    async def compare():
        ours = await asyncio.gather(final(ray_pool, QUICK), final(ray_pool, dict(QUICK, seed=3, rank=4)))
        local = await asyncio.gather(final(pool, QUICK), final(pool, dict(QUICK, seed=3, rank=4)))
        # stop two long jobs on both CPUs: the next two jobs can only run if the stopped ones let go
        streams = [ray_pool.stream("train", SLOW, "en", 60) for _ in range(2)]
        for s in streams:
            await anext(s)
        for s in streams:
            await s.aclose()
        after = await asyncio.wait_for(asyncio.gather(final(ray_pool, QUICK), final(ray_pool, QUICK)), 60)
        return ours, local, after
    ours, local, after = run(compare())
    for a, b in zip(ours, local):
        assert a["accuracy"] == b["accuracy"] and a["final_loss"] == b["final_loss"]
    assert all(a["accuracy"] == ours[0]["accuracy"] for a in after)
    assert ray_pool.size == 2


def test_inline_pool_runs_the_same_job_in_a_thread():
    from lora_demo.workers.inline import InlinePool

    async def once():
        return await final(InlinePool(1), QUICK)
    assert run(once())["accuracy"] == in_process(QUICK)["accuracy"]

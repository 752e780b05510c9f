"""The fair queue in front of the workers, with a stand-in pool: shares, replacement, order, the heavy lane."""
import asyncio

import pytest

from lora_demo.jobs.payload import JobError
from lora_demo.scheduler import Refused, Scheduler, client_key


class FakePool:
    size = 2


def open_many(s: Scheduler, specs):
    return [s.open(client, session, "train", seconds) for client, session, seconds in specs]


def test_each_client_holds_a_small_share_and_the_queue_has_a_bound():
    async def main():
        s = Scheduler(FakePool(), per_client=3, max_waiting=5)
        open_many(s, [("a", f"s{i}", 0.5) for i in range(3)])
        with pytest.raises(Refused) as err:
            s.open("a", "s9", "train", 0.5)
        assert err.value.key == "busy_client" and err.value.fields == {"most": 3}
        open_many(s, [(c, c, 0.5) for c in "bcde"])  # a: 2 running + 1 waiting; 4 more wait: 5 in all
        with pytest.raises(Refused) as err:
            s.open("z", "z", "train", 0.5)
        assert err.value.key == "busy_server"
    asyncio.run(main())


def test_a_new_request_of_a_session_replaces_its_previous_one():
    async def main():
        s = Scheduler(FakePool())
        first = s.open("a", "tab", "train", 0.5)
        other_kind = s.open("a", "tab", "insights", 0.5)
        second = s.open("a", "tab", "train", 0.5)
        assert first.replaced.is_set() and not other_kind.replaced.is_set()
        assert first not in s._running and second.running and other_kind.running
        return s.stats()
    assert asyncio.run(main()) == {"waiting": 0, "running": 2, "clients": 1}


def test_a_burst_from_one_client_does_not_keep_another_waiting():
    async def main():
        s = Scheduler(FakePool(), per_client=4)
        burst = open_many(s, [("a", f"s{i}", 0.5) for i in range(4)])  # two run, two wait
        late = s.open("b", "b", "train", 0.5)
        assert s.position(late) == 0  # b has nothing running, so it goes before a's waiting jobs
        s.close(burst[0])
        assert late.running and not burst[2].running
        positions = []
        async for ahead in s.wait(burst[2], every=0.01):
            positions.append(ahead)
            s.close(burst[1])
        return positions, burst[2].running
    positions, running = asyncio.run(main())
    assert positions == [0] and running


def test_heavy_jobs_leave_a_worker_for_light_ones():
    async def main():
        s = Scheduler(FakePool(), per_client=4, heavy_s=3.0)
        heavy = open_many(s, [(f"h{i}", f"h{i}", 20.0) for i in range(4)])
        light = s.open("l", "l", "train", 0.5)
        return [h.running for h in heavy], light.running
    heavy, light = asyncio.run(main())
    assert heavy == [True, False, False, False] and light


def test_a_closed_waiting_ticket_stops_waiting():
    async def main():
        s = Scheduler(FakePool(), per_client=4)
        open_many(s, [("a", "1", 0.5), ("a", "2", 0.5)])
        waiting = s.open("b", "3", "train", 0.5)
        s.close(waiting)
        with pytest.raises(JobError):
            async for _ in s.wait(waiting, every=0.01):
                pass
        return s.stats()
    assert asyncio.run(main())["waiting"] == 0


@pytest.mark.parametrize("peer,forwarded,proxy,expected", [
    ("192.168.1.20", None, False, "192.168.1.20"),               # a laptop on the LAN
    ("192.168.1.20", "9.9.9.9", False, "192.168.1.20"),          # ... whose own header is not trusted
    ("10.0.0.3", "9.9.9.9", True, "9.9.9.9"),                    # on a Space: the address the proxy saw
    ("10.0.0.3", "1.2.3.4, 9.9.9.9, 10.0.0.9", True, "9.9.9.9"),  # the left entry is the client's own claim
    ("10.0.0.3", "garbage", True, "10.0.0.3"),
    ("8.8.4.4", "1.2.3.4", True, "8.8.4.4"),                     # a public peer is no proxy: ignore the header
    (None, None, False, "session"),
])
def test_client_key(peer, forwarded, proxy, expected):
    assert client_key(peer, forwarded, "session", proxy) == expected


def test_a_finished_job_frees_its_worker_while_its_frames_are_still_being_shown():
    async def main():
        s = Scheduler(FakePool())
        first, second, third = open_many(s, [(c, c, 0.5) for c in "abc"])
        assert first.running and second.running and not third.running
        s.release(first)  # its worker is done; the page is still being shown its frames
        assert third.running and not first.running
        again = s.open("a", "a", "train", 0.5)  # a new click of that session still replaces it
        assert first.replaced.is_set() and not again.running
        s.close(first)  # the relay's own clean-up afterwards changes nothing
        return s.stats()
    assert asyncio.run(main()) == {"waiting": 1, "running": 2, "clients": 3}


class StreamingPool:
    """A pool of one worker whose jobs send two updates and end."""
    size = 1

    async def stream(self, kind, values, lang, seconds):
        for i in range(2):
            await asyncio.sleep(0)
            yield f"update {i}"


def test_the_worker_goes_to_the_next_job_when_the_stream_ends_not_when_its_reader_comes_back():
    """The relay reads a job's stream in a task of its own and may be busy elsewhere (pacing frames, or
    waiting for Gradio to send one) when the job ends; the next job must not wait for it."""
    async def main():
        s = Scheduler(StreamingPool())
        first, second = open_many(s, [("a", "a", 0.5), ("b", "b", 0.5)])
        assert first.running and not second.running
        stream = s.run(first, "train", {}, "en", 5)
        assert [await anext(stream), await anext(stream)] == ["update 0", "update 1"]
        assert await asyncio.ensure_future(anext(stream, None)) is None  # the end, as the relay's pull sees it
        assert second.running and second.granted.done()  # nobody called release()
        s.close(first)
        assert second.running
    asyncio.run(main())


def test_a_stream_given_up_midway_also_frees_the_worker():
    async def main():
        s = Scheduler(StreamingPool())
        first, second = open_many(s, [("a", "a", 0.5), ("b", "b", 0.5)])
        stream = s.run(first, "train", {}, "en", 5)
        await anext(stream)
        await stream.aclose()  # the page was closed
        assert second.running
    asyncio.run(main())

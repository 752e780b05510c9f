"""A worker's memory of finished jobs: the same job again is answered from it, and only then."""
import pytest

from lora_demo.jobs.payload import File, JobError, Plot, Update
from lora_demo.jobs.recent import Recent


class Job:
    """A stand-in job that counts how often it really ran."""

    def __init__(self, n_updates=3, fail_at=None, size=100):
        self.runs, self.n_updates, self.fail_at, self.size = 0, n_updates, fail_at, size

    def __call__(self):
        self.runs += 1
        for k in range(self.n_updates):
            if k == self.fail_at:
                raise JobError("cancelled")
            yield Update({"status": f"step {k}", "plot": Plot("x" * self.size)}, progress=k / 2,
                         final=k == self.n_updates - 1)


def drain(recent, job, kind="train", values=None, lang="en"):
    return list(recent.run(kind, values or {"seed": 0, "target_modules": ["fc2"]}, lang, job))


def test_the_same_job_again_is_answered_from_memory_with_the_same_updates():
    recent, job = Recent(), Job()
    first = drain(recent, job)
    again = drain(recent, job)
    assert job.runs == 1 and recent.hits == 1
    assert again == first and again[-1].final


@pytest.mark.parametrize("change", [dict(kind="race"), dict(lang="zh"),
                                    dict(values={"seed": 1, "target_modules": ["fc2"]}),
                                    dict(values={"seed": 0, "target_modules": ["fc1", "fc2"]})])
def test_any_other_kind_language_or_setting_runs_the_job(change):
    recent, job = Recent(), Job()
    drain(recent, job)
    drain(recent, job, **change)
    assert job.runs == 2 and recent.hits == 0


def test_a_job_that_did_not_finish_is_not_kept():
    recent, job = Recent(), Job(fail_at=2)
    for _ in range(2):
        with pytest.raises(JobError):
            drain(recent, job)
    assert job.runs == 2 and recent.bytes == 0


def test_memory_stays_within_its_bounds_dropping_the_least_recently_used():
    recent = Recent(max_bytes=5_000, max_jobs=3)
    jobs = [Job(size=300) for _ in range(6)]  # about 1.5 kB each: three fit
    for i, job in enumerate(jobs):
        drain(recent, job, values={"seed": i})
        assert recent.bytes <= 5_000 and len(recent) <= 3
    drain(recent, jobs[0], values={"seed": 0})  # long dropped: runs again
    assert jobs[0].runs == 2
    drain(recent, jobs[5], values={"seed": 5})  # kept: answered from memory
    assert jobs[5].runs == 1


def test_a_job_larger_than_the_whole_memory_is_not_kept():
    recent, job = Recent(max_bytes=1_000), Job(size=2_000)
    drain(recent, job)
    drain(recent, job)
    assert job.runs == 2 and recent.bytes == 0


def test_file_bytes_count_toward_the_memory():
    recent = Recent(max_bytes=10_000)

    def job():
        yield Update({"download": File("a.zip", b"z" * 4_000)}, final=True)
    list(recent.run("train", {}, "en", job))
    assert 4_000 <= recent.bytes < 5_000

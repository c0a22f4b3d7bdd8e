"""``grade review``: the review page on a real gradebook, through Flask's test client (CSRF,
hosts, saving, stale saves, overrides, escaping) and in real Chromium driven by Playwright
(score with the keyboard, comment, reload, two tabs, hostile text shown escaped)."""

from __future__ import annotations

import re
import threading

import pytest
from test_manual_kind import COURSE, SOLUTION, TOPIC, _graded, _submission
from test_reviews import submission

from grader.execute.records import Executed, StepOutcome
from grader.gradebook import Gradebook, Graded
from grader.review_app import create_app, render_markdown, serve
from grader.spec import load_course

HOSTILE = "<script>alert('derive')</script><img src=x onerror=alert(1)> **bold** $x^2$"
HOSTILE_CODE = "</pre><script>alert('code')</script>"
STUDENTS = ("alice", "bob", "carol")


@pytest.fixture
def klass(write_course, tmp_path):
    """The manual course of test_manual_kind and a gradebook of three students' gradings."""
    course = load_course(
        write_course(tmp_path, course=COURSE, exercises={"p": TOPIC}, solutions={"p": SOLUTION})
    )
    path = tmp_path / "gb.db"
    with Gradebook(path) as gb:
        for student in STUDENTS:
            text = HOSTILE if student == "alice" else f"proof of {len(student)} letters"
            _, result = _graded(course, _submission(course, derive=text, use=HOSTILE_CODE))
            run = Graded(result, Executed((StepOutcome("ok"),)), course.fingerprint, "run")
            gb.record(submission(tmp_path, student, student.encode()), "p1", run)
    return course, path


def app_of(klass, names=False, reviewer="ta1"):
    course, path = klass
    app = create_app(course, path, ["p1"], reviewer, names)
    app.testing = True
    return app


def at(klass, grading, exercise=""):
    """The page address of a grading's submission (and an exercise): a token, not its id."""
    from grader.reviews import pseudonym_key, submission_token

    with Gradebook(klass[1]) as gb:
        student, assignment, sha = gb.db.execute(
            "SELECT s.student, s.assignment, s.sha256 FROM gradings g JOIN submissions s"
            " ON g.submission = s.id WHERE g.id=?",
            (grading,),
        ).fetchone()
        token = submission_token(pseudonym_key(gb.db), student, assignment, sha)
    return f"{token}/{exercise}" if exercise else token


def token(html):
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def based_on(html):
    return int(re.search(r'name="based_on" value="(\d+)"', html).group(1))


def test_the_first_ungraded_answer_by_pseudonym(klass):
    client = app_of(klass).test_client()
    first = client.get("/")
    assert first.status_code == 302  # an address that says neither whose nor in what order
    assert re.fullmatch(r"/review/[0-9a-f]{16}/p-derive", first.location)
    page = client.get(first.location).get_data(as_text=True)
    assert "0 / 6 reviewed" in page
    assert not any(s in page for s in STUDENTS)  # anonymised
    assert re.search(r'id="student">student-[0-9a-f]{6}<', page)
    named = app_of(klass, names=True).test_client()
    page = named.get(named.get("/").location).get_data(as_text=True)
    assert re.search(r'id="student">(alice|bob|carol)<', page)


def test_the_same_pseudonym_every_run(klass):
    pages = [app_of(klass).test_client() for _ in range(2)]
    names = [
        sorted(
            re.search(
                r'id="student">([^<]+)<',
                c.get(f"/review/{at(klass, g, 'p-derive')}").get_data(as_text=True),
            ).group(1)
            for g in (1, 2, 3)
        )
        for c in pages
    ]
    assert names[0] == names[1] and len(set(names[0])) == 3


def test_hostile_answers_are_escaped(klass):
    client = app_of(klass, names=True).test_client()
    page = client.get(f"/review/{at(klass, 1, 'p-derive')}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page and "<strong>bold</strong>" in page
    code = client.get(f"/review/{at(klass, 1, 'p-use')}").get_data(as_text=True)
    assert "&lt;/pre&gt;&lt;script&gt;alert(" in code and "<script>alert" not in code
    assert (
        "script-src 'self'"
        in client.get(f"/review/{at(klass, 1, 'p-use')}").headers["Content-Security-Policy"]
    )
    assert render_markdown("[x](javascript:alert(1))") == "<p>[x](javascript:alert(1))</p>\n"


def test_saving_needs_the_session_s_token_and_the_loopback(klass):
    client = app_of(klass).test_client()
    page = client.get(f"/review/{at(klass, 1, 'p-derive')}").get_data(as_text=True)
    form = {"based_on": "0", "item": ["0"], "comment": "ok"}
    assert client.post(f"/review/{at(klass, 1, 'p-derive')}", data=form).status_code == 403
    assert (
        client.post(
            f"/review/{at(klass, 1, 'p-derive')}", data={**form, "csrf": "00" * 16}
        ).status_code
        == 403
    )
    other = app_of(klass).test_client()  # another session: its own token
    assert (
        other.post(
            f"/review/{at(klass, 1, 'p-derive')}", data={**form, "csrf": token(page)}
        ).status_code
        == 403
    )
    rebound = client.get(
        f"/review/{at(klass, 1, 'p-derive')}", headers={"Host": "evil.example:8765"}
    )
    assert rebound.status_code == 403
    saved = client.post(f"/review/{at(klass, 1, 'p-derive')}", data={**form, "csrf": token(page)})
    assert saved.status_code == 303
    with Gradebook(klass[1]) as gb:
        assert gb.attempts("p1")[0].exercises["p-derive"] == 1.0


def test_a_save_then_a_stale_save_is_refused_with_a_message(klass):
    client = app_of(klass).test_client()
    page = client.get(f"/review/{at(klass, 2, 'p-derive')}").get_data(as_text=True)
    csrf, version = token(page), based_on(page)
    form = {"csrf": csrf, "based_on": str(version), "item": ["0", "1"], "comment": "good"}
    done = client.post(f"/review/{at(klass, 2, 'p-derive')}", data=form, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Saved." in text and "1 / 6 reviewed" in text and "3.0 points by ta1" in text
    assert 'value="0" data-points="1.0" checked' in text and ">good</textarea>" in text
    stale = client.post(f"/review/{at(klass, 2, 'p-derive')}", data={**form, "comment": "other"})
    assert stale.status_code == 409
    assert "not saved: this answer was reviewed meanwhile (by ta1" in stale.get_data(as_text=True)
    with Gradebook(klass[1]) as gb:
        (alice,) = [a for a in gb.attempts("p1") if a.grading == 2]
        assert alice.reviews["p-derive"].endswith('"good"')


def test_an_override_needs_a_reason(klass):
    client = app_of(klass).test_client()
    page = client.get(f"/submission/{at(klass, 3)}").get_data(as_text=True)
    assert "A word" in page and "Derive" not in page  # automatic exercises only
    form = {"csrf": token(page), "based_on": "0", "points": "0.5"}
    refused = client.post(f"/override/{at(klass, 3, 'p-word')}", data=form)
    assert refused.status_code == 400 and "needs a reason" in refused.get_data(as_text=True)
    assert (
        client.post(
            f"/override/{at(klass, 3, 'p-word')}", data={**form, "points": "x", "reason": "r"}
        ).status_code
        == 400
    )
    done = client.post(
        f"/override/{at(klass, 3, 'p-word')}",
        data={**form, "reason": "typo"},
        follow_redirects=True,
    )
    assert "now 0.5: typo (ta1" in done.get_data(as_text=True)
    with Gradebook(klass[1]) as gb:
        result = gb.result(3)
    assert result.exercises[0].message == "score set by ta1: typo" and result.score == 0.5


def test_a_page_from_before_a_regrade_still_saves_and_an_unknown_one_is_gone(klass, tmp_path):
    client = app_of(klass).test_client()
    old = at(klass, 1, "p-derive")
    page = client.get(f"/review/{old}").get_data(as_text=True)
    with Gradebook(klass[1]) as gb:  # a regrade: a new grading of the same file
        run = Graded(gb.result(1, reviewed=False), Executed((StepOutcome("ok"),)), "c", "r")
        regraded = gb.record(submission(tmp_path, "alice", b"alice"), "p1", run)
    assert at(klass, regraded, "p-derive") == old  # the address is the submission's
    saved = client.post(
        f"/review/{old}", data={"csrf": token(page), "based_on": "0", "item": ["0"]}
    )
    assert saved.status_code == 303
    with Gradebook(klass[1]) as gb:  # the review is of the answer: the new grading has it
        (alice,) = [a for a in gb.attempts("p1") if a.student == "alice"]
    assert alice.grading == regraded and alice.reviews["p-derive"].startswith("1 / 3 by ta1")
    gone = client.get("/review/0123456789abcdef/p-derive")  # no submission's (any more)
    assert gone.status_code == 404 and "no longer current" in gone.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_the_server_listens_on_the_loopback_only(klass):
    server = serve(app_of(klass), 0)
    try:
        assert server.server_address[0] == "127.0.0.1" and server.server_port > 0
    finally:
        server.server_close()


# --- real Chromium ---------------------------------------------------------------------------


@pytest.fixture
def site(klass):
    server = serve(app_of(klass, reviewer="ta-browser"), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", klass[1]
    server.shutdown()
    thread.join()


def watched(context):
    """A page of ``context`` and the problems it had (console errors, dialogs: an alert a
    student's text ran)."""
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    return page, problems


@pytest.mark.kernel
def test_score_with_the_keyboard_comment_and_reload(site, browser):
    url, path = site
    context = browser.new_context()
    page, problems = watched(context)
    page.goto(url + "/")
    assert page.locator("#progress").inner_text() == "0 / 6 reviewed"
    page.keyboard.press("1")
    page.keyboard.press("2")
    page.keyboard.press("1")  # toggled off again
    assert page.locator("#points").inner_text() == "2"
    page.locator("#comment").click()
    page.keyboard.type("solve it: ns and ps typed here are text")
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator("#message").inner_text() == "Saved."
    page.reload()
    boxes = page.locator('input[name="item"]')
    assert [boxes.nth(i).is_checked() for i in range(2)] == [False, True]
    assert page.locator("#comment").input_value() == "solve it: ns and ps typed here are text"
    assert page.locator("#progress").inner_text() == "1 / 6 reviewed"
    assert "by ta-browser" in page.locator("#history").inner_text()
    first = page.url
    page.keyboard.press("n")
    page.wait_for_url(lambda u: u != first and "saved" not in u)
    assert page.locator("#history").inner_text() == "Not reviewed yet."
    page.keyboard.press("p")
    page.wait_for_url(lambda u: u.split("?")[0] == first.split("?")[0])
    with Gradebook(path) as gb:
        assert sorted(a.exercises["p-derive"] for a in gb.attempts("p1")) == [0.0, 0.0, 2.0]
    assert problems == []
    context.close()


@pytest.mark.kernel
def test_two_tabs_the_second_s_stale_save_is_refused(klass, site, browser):
    url, path = site
    context = browser.new_context()
    (one, problems), (two, more) = watched(context), watched(context)
    one.goto(url + f"/review/{at(klass, 2, 'p-derive')}")
    two.goto(url + f"/review/{at(klass, 2, 'p-derive')}")
    one.keyboard.press("1")
    one.keyboard.press("s")
    one.wait_for_url(re.compile(r"saved=1"))
    two.keyboard.press("2")
    two.keyboard.press("s")
    two.wait_for_load_state()
    message = two.locator("#message")
    assert "not saved: this answer was reviewed meanwhile (by ta-browser" in message.inner_text()
    with Gradebook(path) as gb:
        (b,) = [a for a in gb.attempts("p1") if a.grading == 2]
        assert b.exercises["p-derive"] == 1.0  # the first tab's
    boxes = two.locator('input[name="item"]')  # what the second tab chose is not lost
    assert [boxes.nth(i).is_checked() for i in range(2)] == [False, True]
    assert "1.0 points by ta-browser" in two.locator("#history").inner_text()
    two.keyboard.press("s")  # saved again, knowingly: now based on the latest
    two.wait_for_url(re.compile(r"saved=1"))
    with Gradebook(path) as gb:
        (b,) = [a for a in gb.attempts("p1") if a.grading == 2]
        assert b.exercises["p-derive"] == 2.0
    assert problems == [] and [m for m in more if "409 (CONFLICT)" not in m] == []
    context.close()


@pytest.mark.kernel
def test_hostile_student_text_is_shown_escaped(klass, site, browser):
    url, _ = site
    context = browser.new_context()
    page, problems = watched(context)
    page.goto(url + f"/review/{at(klass, 1, 'p-derive')}")
    assert "<script>alert('derive')</script>" in page.locator("#rendered").inner_text()
    assert page.locator("#rendered strong").inner_text() == "bold"
    assert page.locator("#rendered script, #rendered img").count() == 0
    page.goto(url + f"/review/{at(klass, 1, 'p-use')}")
    assert page.locator("#source").inner_text() == HOSTILE_CODE
    assert problems == []  # no alert ran
    context.close()


def test_grade_review_is_a_command_and_needs_a_gradebook(klass, tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    course, _ = klass
    runner = CliRunner()
    shown = runner.invoke(main, ["review", "--help"])
    assert shown.exit_code == 0
    assert all(o in shown.output for o in ("--assignment", "--port", "--reviewer", "--names"))
    missing = runner.invoke(
        main, ["review", "--course", str(course.path), "--db", str(tmp_path / "none.db")]
    )
    assert missing.exit_code != 0 and "none.db" in missing.output


def test_without_manual_answers_the_page_lists_submissions_to_override(
    klass, write_course, tmp_path
):
    _, path = klass
    words = tmp_path / "words"
    words.mkdir()
    only = COURSE.replace("[p-word, p-derive, p-use]", "[p-word]")
    course = load_course(
        write_course(words, course=only, exercises={"p": TOPIC}, solutions={"p": SOLUTION})
    )
    client = create_app(course, path, ["p1"], "ta1").test_client()
    page = client.get("/").get_data(as_text=True)
    assert "No manual answers to review" in page
    links = re.findall(r'<a href="(/submission/[0-9a-f]{16})">p1: student-[0-9a-f]{6}</a>', page)
    assert len(links) == 3
    assert all("A word" in client.get(link).get_data(as_text=True) for link in links)


def test_a_resubmitted_answer_is_reviewed_once_unless_the_best_attempt_counts(klass, tmp_path):
    from dataclasses import replace

    from grader.review_queue import review_queue

    course, path = klass
    with Gradebook(path) as gb:
        _, result = _graded(course, _submission(course, derive="a second proof", use="pass"))
        run = Graded(result, Executed((StepOutcome("ok"),)), course.fingerprint, "run")
        again = gb.record(submission(tmp_path, "alice", b"alice, again"), "p1", run)
        queue = review_queue(course, gb, ["p1"], names=True)
        best = review_queue(
            replace(course, policies=replace(course.policies, attempts="best")), gb, ["p1"], True
        )
    alice = [it for it in queue.items if it.student == "alice"]
    assert {(it.grading, it.exercise) for it in alice} == {(again, "p-derive"), (again, "p-use")}
    assert len(queue.items) == 6 and len(best.items) == 8
    assert {it.answer for it in alice if it.exercise == "p-derive"} == {"a second proof"}

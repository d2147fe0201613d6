from bot.webhooks.context import JobContext
from bot.webhooks.payloads import WebhookEvent
from bot.webhooks.router import Router


def ctx(event: str, action: str | None) -> JobContext:
    return JobContext(
        delivery_id="d",
        event=event,
        action=action,
        installation_id=None,
        attempt=1,
        settings=None,  # type: ignore[arg-type]
        log=None,  # type: ignore[arg-type]
        github_factory=lambda _id: None,
    )


def test_handlers_are_found_by_event_and_action():
    router = Router()
    calls: list[str] = []
    router.register("pull_request", action="closed")(lambda e, c: calls.append("closed"))
    router.register("pull_request")(lambda e, c: calls.append("any"))

    assert router.handles("pull_request", "closed")
    assert router.handles("pull_request", "opened")  # the every-action handler
    assert not router.handles("issues", "opened")
    assert router.dispatch(WebhookEvent(), ctx("pull_request", "closed")) == 2
    assert router.dispatch(WebhookEvent(), ctx("pull_request", "opened")) == 1
    assert calls == ["closed", "any", "any"]


def test_an_action_handler_does_not_catch_other_actions():
    router = Router()
    router.register("issue_comment", action="created")(lambda e, c: None)
    assert not router.handles("issue_comment", "edited")
    assert not router.handles("issue_comment", None)


def test_routers_compose():
    feature_a, feature_b = Router(), Router()
    feature_a.register("issue_comment", action="created")(lambda e, c: None)
    feature_b.register("workflow_run", action="completed")(lambda e, c: None)
    feature_b.register("issue_comment", action="created")(lambda e, c: None)
    app = Router(feature_a, feature_b)
    assert app.events() == {"issue_comment", "workflow_run"}
    assert len(app.handlers_for("issue_comment", "created")) == 2
    # Composing copies: registering later on a feature does not change the composed router.
    feature_a.register("push")(lambda e, c: None)
    assert "push" not in app.events()


def test_register_returns_the_function_unchanged():
    router = Router()

    def handler(event, ctx) -> None:
        return None

    assert router.register("push")(handler) is handler

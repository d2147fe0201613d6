from bot.webhooks.signature import sign, verify

# GitHub's published example (docs: "Validating webhook deliveries").
VECTOR_SECRET = b"It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_test_vector():
    assert sign(VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    assert verify(VECTOR_BODY, VECTOR_SIGNATURE, [VECTOR_SECRET])


def test_a_changed_body_or_secret_fails():
    assert not verify(b"Hello, World?", VECTOR_SIGNATURE, [VECTOR_SECRET])
    assert not verify(VECTOR_BODY, VECTOR_SIGNATURE, [b"another secret"])


def test_any_of_several_secrets_verifies():
    secrets = [b"old", VECTOR_SECRET]
    assert verify(VECTOR_BODY, VECTOR_SIGNATURE, secrets)
    assert verify(VECTOR_BODY, sign(VECTOR_BODY, b"old"), secrets)


def test_missing_malformed_and_sha1_signatures_fail():
    digest = VECTOR_SIGNATURE.removeprefix("sha256=")
    for header in (None, "", digest, "sha1=" + digest[:40], "SHA256=" + digest, "sha256=é"):
        assert not verify(VECTOR_BODY, header, [VECTOR_SECRET])


def test_no_secret_means_nothing_verifies():
    assert not verify(VECTOR_BODY, VECTOR_SIGNATURE, [])

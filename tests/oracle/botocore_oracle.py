#!/usr/bin/env python3
"""botocore, an independent AWS client, against the AWS fake.

The fake verifies every SigV4 signature with its own code; botocore signs
with its own. Requests botocore signs must be accepted, requests changed
after signing or signed with the wrong key must be refused with the errors
AWS gives, and the fake's answers (JSON errors, STS XML, ECS and IMDS
documents) must parse in botocore exactly as the services' do.

    botocore_oracle.py --fake-cloud PATH/secrun_fake_cloud

Exit status: 0 all checks passed, 1 a check failed, 77 botocore is not
installed (CTest reports the test as skipped).
"""
import argparse
import base64
import os
import re
import sys
import urllib.error
import urllib.request

try:
    import botocore
    import botocore.config
    import botocore.exceptions
    import botocore.session
    import botocore.utils
except ImportError as error:
    print("SKIP: botocore is not installed (%s); on Debian: apt-get install python3-botocore" % error)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_cloud import Checks, FakeCloud  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "111122223333"
KEY = "AKIDORACLEKEY"
SECRET = "oracle-secret-key-Q7v9"
TEMP_KEY = "ASIAORACLETEMP"
TEMP_SECRET = "oracle-temp-secret-Z2k4"
TEMP_TOKEN = "oracle-session-token/with+slash=="
DENIED_KEY = "AKIDDENIED"
BINARY = b"\x00\x01binary\xffvalue\x00"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.oracle-web-identity.sig"
ROLE = "arn:aws:iam::%s:role/oracle-web" % ACCOUNT

SCENARIO = {
    "vendors": {"aws": {
        "account": ACCOUNT,
        "credentials": {
            KEY: {"secret": SECRET},
            TEMP_KEY: {"secret": TEMP_SECRET, "session_token": TEMP_TOKEN},
            DENIED_KEY: {"secret": "denied-secret"},
        },
        "secrets": {
            "prod/db": {"suffix": "AbCdEf", "string": '{"user":"muse","password":"pa55-oracle-db"}'},
            "prod/da": {"string": "tamper-target-value"},
            "prod/bin": {"binary": base64.b64encode(BINARY).decode()},
            "prod/token": {"versions": [
                {"id": "11111111-1111-4111-8111-111111111111", "stages": ["AWSPREVIOUS"], "string": "old-token"},
                {"id": "22222222-2222-4222-8222-222222222222", "stages": ["AWSCURRENT"], "string": "new-token"},
            ]},
            "prod/private": {"string": "private-value", "deny": [DENIED_KEY]},
            "prod/gone": {"string": "gone-value", "deleted": True},
            "prod/throttled": {"string": "after-throttling"},
        },
        "throttle": {"GetSecretValue": 0},
        "batch_page_size": 2,
        "sts": {
            "web_identity": {WEB_TOKEN: {"role_arn": ROLE, "issue": {
                "access_key": "ASIAWEBISSUED", "secret": "web-issued-secret",
                "session_token": "web-issued-token"}}},
            "roles": {"arn:aws:iam::%s:role/oracle-assumed" % ACCOUNT: {"trusted": [KEY], "issue": {
                "access_key": "ASIAROLEISSUED", "secret": "role-issued-secret",
                "session_token": "role-issued-token"}}},
        },
        "ecs": {"path": "/v2/credentials/oracle", "authorization": "ecs-auth-oracle", "issue": {
            "access_key": "ASIAECSISSUED", "secret": "ecs-issued-secret", "session_token": "ecs-issued-token"}},
        "imds": {"role": "oracle-role", "issue": {
            "access_key": "ASIAIMDSISSUED", "secret": "imds-issued-secret", "session_token": "imds-issued-token"}},
    }}
}

SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service "
                      "documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."


def isolate_environment():
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def client(cloud, service="secretsmanager", key=KEY, secret=SECRET, token=None, attempts=1, unsigned=False):
    config = botocore.config.Config(retries={"total_max_attempts": attempts, "mode": "standard"},
                                    connect_timeout=5, read_timeout=10)
    if unsigned:
        config = config.merge(botocore.config.Config(signature_version=botocore.UNSIGNED))
    session = botocore.session.get_session()
    return session.create_client(service, region_name=REGION, endpoint_url=cloud.https_url, verify=cloud.ca_file,
                                 aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                                 config=config)


def error_of(call):
    """(code, message) of the ClientError `call` raises, or ("no error", result)."""
    try:
        return ("no error", call())
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["Error"]["Message"])


def signed_requests(checks, cloud):
    sm = client(cloud)
    got = sm.get_secret_value(SecretId="prod/db")
    checks.equal("long-term key: SecretString", got["SecretString"], '{"user":"muse","password":"pa55-oracle-db"}')
    arn = "arn:aws:secretsmanager:%s:%s:secret:prod/db-AbCdEf" % (REGION, ACCOUNT)
    checks.equal("ARN in the answer", got["ARN"], arn)
    checks.equal("VersionStages", got["VersionStages"], ["AWSCURRENT"])
    checks.equal("full ARN", sm.get_secret_value(SecretId=arn)["Name"], "prod/db")
    checks.equal("partial ARN", sm.get_secret_value(SecretId=arn[:-7])["Name"], "prod/db")
    checks.equal("SecretBinary bytes", sm.get_secret_value(SecretId="prod/bin")["SecretBinary"], BINARY)
    checks.equal("AWSPREVIOUS", sm.get_secret_value(SecretId="prod/token", VersionStage="AWSPREVIOUS")
                 ["SecretString"], "old-token")
    checks.equal("VersionId", sm.get_secret_value(SecretId="prod/token",
                                                  VersionId="22222222-2222-4222-8222-222222222222")
                 ["SecretString"], "new-token")
    temp = client(cloud, key=TEMP_KEY, secret=TEMP_SECRET, token=TEMP_TOKEN)
    checks.equal("session credentials (token signed)", temp.get_secret_value(SecretId="prod/da")["SecretString"],
                 "tamper-target-value")


def refused_requests(checks, cloud):
    # The body is changed after signing to name another secret of the same
    # length: a fake that did not verify would answer with its value.
    tampered = client(cloud)

    def tamper(request, **kwargs):
        request.body = request.body.replace(b"prod/db", b"prod/da")

    tampered.meta.events.register("before-send.secrets-manager.GetSecretValue", tamper)
    checks.equal("body changed after signing",
                 error_of(lambda: tampered.get_secret_value(SecretId="prod/db")),
                 ("InvalidSignatureException", SIGNATURE_MISMATCH))

    extra = client(cloud)

    def add_unsigned_header(request, **kwargs):
        request.headers["X-Unsigned-After-Signing"] = "anything"

    extra.meta.events.register("before-send.secrets-manager.GetSecretValue", add_unsigned_header)
    checks.equal("a header added after signing (not signed) does not matter",
                 extra.get_secret_value(SecretId="prod/da")["SecretString"], "tamper-target-value")

    checks.equal("wrong secret key",
                 error_of(lambda: client(cloud, secret="not-the-secret").get_secret_value(SecretId="prod/db")),
                 ("InvalidSignatureException", SIGNATURE_MISMATCH))
    checks.equal("unknown access key",
                 error_of(lambda: client(cloud, key="AKIDUNKNOWN").get_secret_value(SecretId="prod/db")),
                 ("UnrecognizedClientException", INVALID_TOKEN))
    checks.equal("session credentials without their token",
                 error_of(lambda: client(cloud, key=TEMP_KEY, secret=TEMP_SECRET).get_secret_value(SecretId="prod/db")),
                 ("UnrecognizedClientException", INVALID_TOKEN))
    checks.equal("wrong session token",
                 error_of(lambda: client(cloud, key=TEMP_KEY, secret=TEMP_SECRET, token="other")
                          .get_secret_value(SecretId="prod/db")),
                 ("UnrecognizedClientException", INVALID_TOKEN))
    checks.equal("unsigned request",
                 error_of(lambda: client(cloud, unsigned=True).get_secret_value(SecretId="prod/db")),
                 ("MissingAuthenticationTokenException", "Missing Authentication Token"))


def service_errors(checks, cloud):
    sm = client(cloud)
    try:
        sm.get_secret_value(SecretId="prod/none")
        checks.check("ResourceNotFoundException is the modelled exception", False, "no error")
    except sm.exceptions.ResourceNotFoundException as e:
        checks.equal("ResourceNotFoundException is the modelled exception", e.response["Error"]["Message"],
                     "Secrets Manager can't find the specified secret.")
    checks.equal("unknown stage", error_of(lambda: sm.get_secret_value(SecretId="prod/db", VersionStage="AWSPENDING")),
                 ("ResourceNotFoundException",
                  "Secrets Manager can't find the specified secret value for staging label: AWSPENDING"))
    denied = client(cloud, key=DENIED_KEY, secret="denied-secret")
    code, message = error_of(lambda: denied.get_secret_value(SecretId="prod/private"))
    checks.equal("AccessDeniedException (Message member parsed)", (code, message.startswith(
        "User: %s is not authorized to perform: secretsmanager:GetSecretValue" % DENIED_KEY)),
        ("AccessDeniedException", True))
    checks.equal("deleted secret", error_of(lambda: sm.get_secret_value(SecretId="prod/gone")),
                 ("InvalidRequestException",
                  "You can't perform this operation on the secret because it was marked for deletion."))


def throttling(checks, binary):
    scenario = {"vendors": {"aws": dict(SCENARIO["vendors"]["aws"], throttle={"GetSecretValue": 2})}}
    with FakeCloud(binary, scenario) as cloud:
        once = client(cloud, attempts=1)
        checks.equal("ThrottlingException shape", error_of(lambda: once.get_secret_value(SecretId="prod/throttled")),
                     ("ThrottlingException", "Rate exceeded"))
        retrying = client(cloud, attempts=3)
        checks.equal("botocore retries ThrottlingException (standard mode)",
                     retrying.get_secret_value(SecretId="prod/throttled")["SecretString"], "after-throttling")
        checks.equal("counted: 3 calls, 2 throttled",
                     (cloud.counter("aws.GetSecretValue"), cloud.counter("aws.error.ThrottlingException")), (3, 2))


def clock_skew(checks, binary):
    for offset, pattern in ((600, r"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) "
                                  r"\((\d{8}T\d{6}Z) - 5 min\.\)"),
                            (-600, r"Signature not yet current: (\d{8}T\d{6}Z) is still later than "
                                   r"(\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) \+ 5 min\.\)")):
        scenario = {"vendors": {"aws": dict(SCENARIO["vendors"]["aws"], clock_offset_seconds=offset)}}
        with FakeCloud(binary, scenario) as cloud:
            code, message = error_of(lambda: client(cloud).get_secret_value(SecretId="prod/db"))
            checks.check("clock %+d s: InvalidSignatureException" % offset,
                         code == "InvalidSignatureException" and re.fullmatch(pattern, message) is not None,
                         "%s: %s" % (code, message))


def batch(checks, cloud):
    sm = client(cloud)
    if "BatchGetSecretValue" not in sm.meta.method_to_api_mapping.values():
        print("# botocore %s predates BatchGetSecretValue: batch checks skipped" % botocore.__version__)
        return
    first = sm.batch_get_secret_value(SecretIdList=["prod/db", "prod/none", "prod/da"])
    checks.equal("batch page 1 (page size 2)", ([v["Name"] for v in first["SecretValues"]],
                                                [e["ErrorCode"] for e in first["Errors"]], "NextToken" in first),
                 (["prod/db"], ["ResourceNotFoundException"], True))
    second = sm.batch_get_secret_value(SecretIdList=["prod/db", "prod/none", "prod/da"], NextToken=first["NextToken"])
    checks.equal("batch page 2", ([v["SecretString"] for v in second["SecretValues"]], "NextToken" in second),
                 (["tamper-target-value"], False))


def sts_ecs_imds(checks, cloud):
    sts = client(cloud, service="sts", key=None, secret=None, unsigned=True)
    answer = sts.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="oracle-session",
                                               WebIdentityToken=WEB_TOKEN)
    creds = answer["Credentials"]
    checks.equal("STS XML parsed by botocore", (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
                                               answer["AssumedRoleUser"]["Arn"]),
                 ("ASIAWEBISSUED", "web-issued-secret", "web-issued-token",
                  "arn:aws:sts::%s:assumed-role/oracle-web/oracle-session" % ACCOUNT))
    issued = client(cloud, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    checks.equal("issued credentials accepted by Secrets Manager",
                 issued.get_secret_value(SecretId="prod/da")["SecretString"], "tamper-target-value")
    checks.equal("unknown web identity token", error_of(lambda: sts.assume_role_with_web_identity(
        RoleArn=ROLE, RoleSessionName="oracle-session", WebIdentityToken="not-a-known-token"))[0],
        "InvalidIdentityToken")

    signed_sts = client(cloud, service="sts")
    role = signed_sts.assume_role(RoleArn="arn:aws:iam::%s:role/oracle-assumed" % ACCOUNT, RoleSessionName="s1")
    checks.equal("AssumeRole signed by botocore for sts", role["Credentials"]["AccessKeyId"], "ASIAROLEISSUED")
    checks.equal("AssumeRole with a wrong key", error_of(lambda: client(cloud, service="sts", secret="wrong")
                                                         .assume_role(RoleArn="arn:aws:iam::%s:role/oracle-assumed"
                                                                      % ACCOUNT, RoleSessionName="s1")),
                 ("SignatureDoesNotMatch", SIGNATURE_MISMATCH))

    ecs = botocore.utils.ContainerMetadataFetcher().retrieve_full_uri(
        cloud.http_url + "/v2/credentials/oracle", headers={"Authorization": "ecs-auth-oracle"})
    checks.equal("ECS document parsed by botocore", (ecs["AccessKeyId"], ecs["Token"]),
                 ("ASIAECSISSUED", "ecs-issued-token"))

    imds = botocore.utils.InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=cloud.http_url + "/",
                                                 env={})  # not the isolated environment: IMDS is disabled there
    role_creds = imds.retrieve_iam_role_credentials()
    checks.equal("IMDSv2 credentials fetched by botocore", (role_creds.get("role_name"), role_creds.get("access_key"),
                                                            role_creds.get("token")),
                 ("oracle-role", "ASIAIMDSISSUED", "imds-issued-token"))
    try:
        urllib.request.urlopen(cloud.http_url + "/latest/meta-data/iam/security-credentials/", timeout=5)
        checks.check("IMDS GET without a token is 401", False, "answered 200")
    except urllib.error.HTTPError as e:
        checks.equal("IMDS GET without a token is 401", e.code, 401)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fake-cloud", required=True)
    args = parser.parse_args()
    isolate_environment()
    print("# botocore %s" % botocore.__version__)
    checks = Checks()
    with FakeCloud(args.fake_cloud, SCENARIO) as cloud:
        try:
            signed_requests(checks, cloud)
            refused_requests(checks, cloud)
            service_errors(checks, cloud)
            batch(checks, cloud)
            sts_ecs_imds(checks, cloud)
        except Exception:
            print(cloud.log())
            raise
    throttling(checks, args.fake_cloud)
    clock_skew(checks, args.fake_cloud)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

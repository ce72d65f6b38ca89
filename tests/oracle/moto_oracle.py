#!/usr/bin/env python3
"""secrun against moto, a second, independent Secrets Manager peer.

moto's server (the same one `python3 -m moto.server` runs, started here in a
thread on 127.0.0.1) gets its secrets from boto3. secrun speaks only HTTPS to
Secrets Manager, so a small TLS terminator in this script (Python's ssl
module, the fake cloud's test certificate) forwards the bytes of each TLS
connection to moto's plain-HTTP port. secrun then resolves the same manifest
(JSON fields, an ARN, a binary value into a file, a previous stage) from
moto and from our fake holding the same secrets; the child environments and
files must be identical, with and without --aws-batch.

    moto_oracle.py --fake-cloud PATH --secrun PATH

Exit status: 0 all checks passed, 1 a check failed, 77 moto or boto3 is not
installed (CTest reports the test as skipped).
"""
import argparse
import base64
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

try:
    import boto3
    from moto.server import ThreadedMotoServer
except ImportError as error:
    print("SKIP: moto or boto3 is not installed (%s)" % error)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_cloud import Checks, FakeCloud  # noqa: E402

REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"  # moto's default account
DB_VALUE = json.dumps({"user": "muse", "password": "pa55 w0rd-$HOME-moto", "port": 5432})
BINARY = b"\x00\x01moto-binary\xff\x00\n"


class TlsTerminator:
    """Accepts TLS on 127.0.0.1 and forwards each connection's plain bytes to `target_port`."""

    def __init__(self, cert, key, target_port):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.batch_calls = 0  # BatchGetSecretValue requests seen in the decrypted stream
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        threading.Thread(target=self._pump, args=(upstream, tls), daemon=True).start()
        self._pump(tls, upstream, self._count)

    def _count(self, data):
        self.batch_calls += data.count(b"secretsmanager.BatchGetSecretValue")

    @staticmethod
    def _pump(source, sink, inspect=None):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if inspect:
                    inspect(data)
                sink.sendall(data)
        except OSError:
            pass
        for s in (sink, source):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.listener.close()


def create_moto_secrets(moto_url):
    sm = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_url,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    db_arn = sm.create_secret(Name="prod/db", SecretString=DB_VALUE)["ARN"]
    sm.create_secret(Name="prod/bin", SecretBinary=BINARY)
    sm.create_secret(Name="prod/token", SecretString="old-token-moto")
    sm.put_secret_value(SecretId="prod/token", SecretString="new-token-moto")
    return db_arn


def fake_scenario(db_arn):
    suffix = db_arn.rsplit("-", 1)[1]
    return {"vendors": {"aws": {
        "account": MOTO_ACCOUNT,
        "credentials": {"AKIDMOTOORACLE": {"secret": "fake-peer-secret-key"}},
        "secrets": {
            "prod/db": {"suffix": suffix, "string": DB_VALUE},
            "prod/bin": {"binary": base64.b64encode(BINARY).decode()},
            "prod/token": {"versions": [{"stages": ["AWSPREVIOUS"], "string": "old-token-moto"},
                                        {"stages": ["AWSCURRENT"], "string": "new-token-moto"}]},
        },
    }}}


def run_secrun(secrun, url, ca_file, key, secret, manifest, work, extra_args):
    out_dir = tempfile.mkdtemp(dir=work)
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SSL_CERT_FILE": ca_file,
        "OUT_DIR": out_dir,
    }
    command = ["/bin/sh", "-c", 'cp "$BIN_FILE" "$OUT_DIR/bin" && exec env -0']
    result = subprocess.run([secrun, "--backend", "aws_secrets", "--manifest", manifest, "--timeout", "20s"]
                            + extra_args + ["--"] + command,
                            env=env, capture_output=True, timeout=60)
    variables = {}
    for entry in result.stdout.split(b"\0"):
        if b"=" in entry:
            name, value = entry.split(b"=", 1)
            variables[name.decode()] = value.decode("utf-8", "replace")
    binary = None
    if os.path.exists(os.path.join(out_dir, "bin")):
        with open(os.path.join(out_dir, "bin"), "rb") as f:
            binary = f.read()
    return result, variables, binary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fake-cloud", required=True)
    parser.add_argument("--secrun", required=True)
    args = parser.parse_args()
    checks = Checks()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        db_arn = create_moto_secrets("http://%s:%d" % (host, port))
        with FakeCloud(args.fake_cloud, fake_scenario(db_arn)) as cloud, \
                tempfile.TemporaryDirectory(prefix="secrun-moto-") as work:
            terminator = TlsTerminator(os.path.join(cloud.certs_dir, "leaf.pem"),
                                       os.path.join(cloud.certs_dir, "leaf-key.pem"), port)
            manifest = os.path.join(work, "secrets.manifest")
            with open(manifest, "w") as f:
                f.write("DB_USER = aws_secrets://prod/db#user\n"
                        "DB_PASSWORD = aws_secrets://prod/db#password\n"
                        "DB_PORT = aws_secrets://prod/db#port\n"
                        "DB_BY_ARN = aws_secrets://%s#password\n"
                        "BIN_FILE = aws_secrets://prod/bin file\n"
                        "OLD_TOKEN = aws_secrets://prod/token?stage=AWSPREVIOUS\n"
                        "NEW_TOKEN = aws_secrets://prod/token\n" % db_arn)
            names = ["DB_USER", "DB_PASSWORD", "DB_PORT", "DB_BY_ARN", "OLD_TOKEN", "NEW_TOKEN"]
            expected = {"DB_USER": "muse", "DB_PASSWORD": "pa55 w0rd-$HOME-moto", "DB_PORT": "5432",
                        "DB_BY_ARN": "pa55 w0rd-$HOME-moto", "OLD_TOKEN": "old-token-moto",
                        "NEW_TOKEN": "new-token-moto"}
            for extra in ([], ["--aws-batch"]):
                label = " ".join(["secrun"] + extra)
                peers = {
                    "moto": ("https://127.0.0.1:%d" % terminator.port, "testing", "testing"),
                    "fake": (cloud.https_url, "AKIDMOTOORACLE", "fake-peer-secret-key"),
                }
                seen = {}
                batch_calls_before = terminator.batch_calls
                for peer, (url, key, secret) in peers.items():
                    result, variables, binary = run_secrun(args.secrun, url, cloud.ca_file, key, secret,
                                                           manifest, work, extra)
                    checks.check("%s against %s exits 0" % (label, peer), result.returncode == 0,
                                 "status %d, stderr: %s" % (result.returncode, result.stderr.decode(errors="replace")))
                    got = {name: variables.get(name) for name in names}
                    checks.equal("%s against %s: values" % (label, peer), got, expected)
                    checks.equal("%s against %s: binary file byte for byte" % (label, peer), binary, BINARY)
                    checks.check("%s against %s: no value on stderr" % (label, peer),
                                 all(v.encode() not in result.stderr for v in expected.values()))
                    seen[peer] = (got, binary)
                checks.equal("%s: moto and the fake give the same result" % label, seen["moto"], seen["fake"])
                checks.equal("%s: BatchGetSecretValue calls moto received" % label,
                             terminator.batch_calls - batch_calls_before, 1 if extra else 0)
            checks.check("moto was reached through the TLS terminator", terminator.connections > 0)
            terminator.close()
            if checks.failed:
                print(cloud.log())
    finally:
        moto.stop()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())

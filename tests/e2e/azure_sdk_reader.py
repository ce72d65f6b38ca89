"""Reads Key Vault secrets with Microsoft's own Python SDK (Debian python3-azure),
as an independent client of the Azure fake that secrun's e2e tests use.

Usage: azure_sdk_reader.py NAME[/VERSION]...
Environment: VAULT_URL, AUTHORITY (the fake's https URL), TENANT, CLIENT_ID,
CLIENT_SECRET, REQUESTS_CA_BUNDLE (the fake's CA).
Prints one JSON object: {"NAME": {"value": ..., "version": ...} or {"error": "<exception class>: <code>"}}.
Exit 77 when the SDK is not installed (the test then skips).
"""
import json
import os
import sys
import time

try:
    import requests
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import HttpResponseError
    from azure.keyvault.secrets import SecretClient
except ImportError as e:  # not installed: the caller skips
    print(f"azure SDK not available: {e}", file=sys.stderr)
    sys.exit(77)


class FakeEntraCredential:
    """A client-secret credential that asks the fake's token endpoint directly
    (MSAL would need the fake to serve OpenID discovery). Records the tenants
    the SDK asked for, which come from Key Vault's challenge."""

    def __init__(self):
        self.tenants = []

    def get_token(self, *scopes, tenant_id=None, **kwargs):
        tenant = tenant_id or os.environ["TENANT"]
        self.tenants.append(tenant)
        answer = requests.post(
            f"{os.environ['AUTHORITY']}/{tenant}/oauth2/v2.0/token",
            data={
                "client_id": os.environ["CLIENT_ID"],
                "client_secret": os.environ["CLIENT_SECRET"],
                "scope": " ".join(scopes),
                "grant_type": "client_credentials",
            },
            timeout=10,
        )
        answer.raise_for_status()
        body = answer.json()
        return AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))


def main():
    credential = FakeEntraCredential()
    # Loopback is not under vault.azure.net: the SDK's resource check must be off.
    client = SecretClient(os.environ["VAULT_URL"], credential, verify_challenge_resource=False)
    out = {}
    for ref in sys.argv[1:]:
        name, _, version = ref.partition("/")
        try:
            secret = client.get_secret(name, version or None)
            out[ref] = {"value": secret.value, "version": secret.properties.version}
        except HttpResponseError as e:
            code = e.error.code if e.error is not None else ""
            out[ref] = {"error": f"{type(e).__name__}: {code}"}
    out["_tenants"] = sorted(set(credential.tenants))
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()

"""TLS as a shop runs it: the server takes only encrypted logins from the LAN (`hostssl`), and
agents check its certificate against the shop's CA and its name (`sslmode=verify-full`).

The server of this module listens on 127.0.0.1 (the tests' admin path) and on 127.0.0.2, which
stands for the LAN: pg_hba.conf allows 127.0.0.2 only with `hostssl`. A client's packets to
127.0.0.2 leave from 127.0.0.1 on Linux, so a small relay that binds its outgoing socket to
127.0.0.2 makes the server see a LAN address (TLS passes through it untouched: libpq negotiates it
in-band)."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import pwd
import secrets
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from tests.helpers import pg

psycopg = pg.require_psycopg()
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from assistant.team import connection, schema  # noqa: E402

LAN = "127.0.0.2"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _server_cert(ca_key, ca_cert, ip: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("kefu team server")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class Relay:
    """Accept on LAN:port, connect to the server from LAN (bound source address), copy bytes."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server((LAN, 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((LAN, self.target_port), source_address=(LAN, 0))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):  # one side ended: end both (the other pipe's recv then returns)
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    certs = Path(tempfile.mkdtemp(prefix="kefu-tls-"))
    ca_key, ca_cert = _ca("kefu shop CA")
    key, cert = _server_cert(ca_key, ca_cert, LAN)
    _, other_ca = _ca("someone else's CA")
    (certs / "server.crt").write_bytes(_pem(cert))
    (certs / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (certs / "pg_hba.conf").write_text(
        "local all all scram-sha-256\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"  # the tests' own admin path
        f"hostssl all all {LAN}/32 scram-sha-256\n")  # the LAN: encrypted only
    client_dir = tmp_path_factory.mktemp("client")
    (client_dir / "shop-ca.crt").write_bytes(_pem(ca_cert))
    (client_dir / "other-ca.crt").write_bytes(_pem(other_ca))
    (certs / "server.key").chmod(0o600)
    if os.geteuid() == 0:
        owner = pwd.getpwnam(pg.SUPERUSER)
        for path in (certs, *certs.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    try:
        server = pg.start_server({"ssl": "on", "ssl_cert_file": str(certs / "server.crt"),
                                  "ssl_key_file": str(certs / "server.key"),
                                  "hba_file": str(certs / "pg_hba.conf"),
                                  "listen_addresses": f"'127.0.0.1,{LAN}'"})
    except (pg.PgUnavailable, OSError) as e:
        if pg.in_ci():
            pytest.fail(f"cannot start the TLS PostgreSQL server: {e}", pytrace=False)
        pytest.skip(f"cannot start the TLS PostgreSQL server: {e}")
    relay = Relay(server.port)
    team = "tls" + secrets.token_hex(3)
    password = secrets.token_urlsafe(12)
    with server.connect() as admin:
        admin.execute("CREATE DATABASE kefu")
    with server.connect("kefu") as admin:
        schema.apply(admin)
        schema.create_team(admin, team)
        schema.create_shop(admin, team, "旗舰店")
        schema.create_agent(admin, team, "wang", password, shops=["旗舰店"])
    try:
        yield {"server": server, "relay": relay, "role": schema.agent_role(team, "wang"), "password": password,
               "ca": client_dir / "shop-ca.crt", "other": client_dir / "other-ca.crt"}
    finally:
        relay.close()
        server.stop()
        import shutil

        shutil.rmtree(certs, ignore_errors=True)


def lan_connect(t, **kw):
    return psycopg.connect(host=LAN, port=t["relay"].port, dbname="kefu", user=t["role"], password=t["password"],
                           connect_timeout=5, **kw)


def test_verify_full_with_the_shops_ca_connects_encrypted_from_the_lan(tls_server):
    with lan_connect(tls_server, sslmode="verify-full", sslrootcert=str(tls_server["ca"])) as conn:
        ssl, addr = conn.execute("SELECT s.ssl, inet_client_addr()::text FROM pg_stat_ssl s "
                                 "WHERE s.pid = pg_backend_pid()").fetchone()
    assert ssl is True and addr.startswith(LAN)


def test_a_wrong_certificate_is_rejected(tls_server):
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        lan_connect(tls_server, sslmode="verify-full", sslrootcert=str(tls_server["other"]))


def test_a_name_that_does_not_match_the_certificate_is_rejected(tls_server):
    # the certificate names 127.0.0.2; the same server reached as 127.0.0.1 is not the one it vouches for
    s = tls_server
    with pytest.raises(psycopg.OperationalError, match="does not match|certificate"):
        psycopg.connect(host="127.0.0.1", port=s["server"].port, dbname="kefu", user=s["role"],
                        password=s["password"], sslmode="verify-full", sslrootcert=str(s["ca"]), connect_timeout=5)


def test_the_server_refuses_an_unencrypted_login_from_the_lan(tls_server):
    with pytest.raises(psycopg.OperationalError, match="no encryption|pg_hba.conf"):
        lan_connect(tls_server, sslmode="disable")


def test_kefu_team_connect_with_verify_full(tls_server, tmp_path, monkeypatch):
    """The agent's URL carries sslmode=verify-full and the CA file; the stored setting keeps both
    (the CA as an absolute path), and a wrong CA fails as one clear line."""
    from assistant.core.store import Store

    s = tls_server
    monkeypatch.chdir(s["ca"].parent)
    url = f"postgresql://{s['role']}@{LAN}:{s['relay'].port}/kefu?sslmode=verify-full&sslrootcert=shop-ca.crt"
    target = connection.parse_url(url)
    assert target.sslrootcert == str(s["ca"].resolve())
    with connection._login(target, s["password"]) as conn:  # noqa: SLF001 - the login the commands use
        status = connection.read_status(conn, target)
    assert status.shops == ["旗舰店"]
    assert "sslrootcert=" in target.server and target.server.startswith(f"postgresql://{LAN}:")
    with Store(tmp_path / "kefu.db") as store:
        from assistant.core import settings

        settings.set(store, "team.server", target.server)
        settings.set(store, "team.role", s["role"])
        again = connection.configured(store)
    assert again == target
    wrong = connection.parse_url(url.replace("shop-ca.crt", "other-ca.crt"))
    with pytest.raises(connection.TeamError) as e:
        connection._login(wrong, s["password"])  # noqa: SLF001
    assert "TLS" in e.value.en and "加密" in e.value.zh
    with pytest.raises(Exception, match="does not exist"):
        connection.parse_url(url.replace("shop-ca.crt", "missing.crt"))

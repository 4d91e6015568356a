"""MariaDB connections on the loopback interface skip PyMySQL's TLS attempt
(and the certificate context it sets up for it); any other host, a URL with
its own ``ssl*`` options or another driver keeps PyMySQL's behaviour."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from health_api.db.session import _mysql_tls_args, make_engine


@pytest.mark.parametrize("url, expected", [
    ("mysql+pymysql://root@127.0.0.1/db", {"ssl_disabled": True}),
    ("mysql+pymysql://root@localhost/db", {"ssl_disabled": True}),
    ("mysql+pymysql://root@[::1]:3306/db", {"ssl_disabled": True}),
    ("mysql+pymysql://root@/db?unix_socket=/run/mysqld/mysqld.sock", {"ssl_disabled": True}),
    ("mysql+pymysql://root@db.example.org/db", {}),
    ("mysql+pymysql://root@10.0.0.5/db", {}),
    # the user asked for TLS settings: PyMySQL decides, even on loopback
    ("mysql+pymysql://root@127.0.0.1/db?ssl_ca=/etc/ca.pem", {}),
    ("mysql+pymysql://root@127.0.0.1/db?ssl_verify_cert=true", {}),
    # another driver takes other arguments
    ("mysql+mysqldb://root@127.0.0.1/db", {}),
])
def test_tls_arguments_by_url(url, expected):
    assert _mysql_tls_args(make_url(url)) == expected


def test_loopback_connection_goes_without_tls_context(migrated_urls):
    url = migrated_urls("mysql")
    assert make_url(url).host in ("127.0.0.1", "localhost"), "the test server is local"
    engine = make_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            assert raw.driver_connection.ssl is False
            assert not hasattr(raw.driver_connection, "ctx")
            cursor = raw.cursor()
            cursor.execute("SELECT 1")
            assert cursor.fetchall() == ((1,),)
            cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            assert cursor.fetchall() == (("Ssl_cipher", ""),)
        finally:
            raw.close()
    finally:
        engine.dispose()

#!/usr/bin/env bash
# Makes a private CA, a server certificate for colony's gRPC servers and a client certificate
# for mutual TLS.
#   scripts/make-certs.sh DIR [HOST ...]     (HOSTs: extra names or IPs; 127.0.0.1 and
#                                             localhost are always included)
# Writes DIR/ca.pem (give it to clients: --tls-ca; and to servers that check clients:
# security.tls_client_ca), DIR/server.pem and DIR/server.key (give them to servers: --tls-cert,
# --tls-key), DIR/client.pem and DIR/client.key (clients, for mutual TLS:
# security.tls_client_cert, security.tls_client_key). Keys are readable by the owner only.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [HOST ...]" >&2
  exit 2
fi
DIR=$1
shift
mkdir -p "$DIR"
umask 077
SAN="IP:127.0.0.1,DNS:localhost"
for host in "$@"; do
  if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then SAN="$SAN,IP:$host"; else SAN="$SAN,DNS:$host"; fi
done
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=colony-ca" \
  -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=colony-server" \
  -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
  "$SAN" > "$DIR/server.ext"
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
  -CAcreateserial -days 365 -extfile "$DIR/server.ext" -out "$DIR/server.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=colony-client" \
  -keyout "$DIR/client.key" -out "$DIR/client.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' \
  > "$DIR/client.ext"
openssl x509 -req -in "$DIR/client.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
  -CAcreateserial -days 365 -extfile "$DIR/client.ext" -out "$DIR/client.pem" 2>/dev/null
rm -f "$DIR/server.csr" "$DIR/server.ext" "$DIR/client.csr" "$DIR/client.ext" "$DIR/ca.srl"
chmod 644 "$DIR/ca.pem" "$DIR/server.pem" "$DIR/client.pem"
echo "wrote $DIR/ca.pem, $DIR/server.pem, $DIR/server.key, $DIR/client.pem, $DIR/client.key (SAN $SAN)"

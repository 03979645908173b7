#!/bin/sh
# Generates the TEST-ONLY certificate authority and leaf certificate in fixtures/tls/ used by the
# local fake providers in tests (SPEC §8: AIVAULT_DEV_RESOLVE + AIVAULT_DEV_CA_CERT_PATH).
# The private keys are committed on purpose: they protect nothing. Never trust this CA anywhere
# except in a test broker. Re-run to regenerate (long validity so CI never hits expiry).
set -eu
cd "$(dirname "$0")/../fixtures/tls"
DAYS=9000
HOSTS="api.openai.com api.anthropic.com generativelanguage.googleapis.com api.telegram.org api.github.com api.example-custom.test other.example-custom.test"
SAN=""
for h in $HOSTS; do SAN="${SAN:+$SAN,}DNS:$h"; done
EC="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

openssl req -x509 $EC -keyout ca.key -out ca.pem -days $DAYS -subj "/CN=aivault TEST-ONLY CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

openssl req $EC -keyout leaf.key -out leaf.csr -subj "/CN=api.openai.com" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$SAN" > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days $DAYS -extfile leaf.ext 2>/dev/null

# A leaf for a name the tests never map, signed by a different (untrusted) CA: TLS must fail.
openssl req -x509 $EC -keyout untrusted.key -out untrusted.pem -days $DAYS -subj "/CN=api.openai.com" \
  -addext "subjectAltName=DNS:api.openai.com" 2>/dev/null

rm -f leaf.csr leaf.ext ca.srl
echo "fixtures/tls: ca.pem leaf.pem leaf.key untrusted.pem untrusted.key ($HOSTS)"

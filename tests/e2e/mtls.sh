#!/usr/bin/env bash
# e2e: mutual TLS on every hop between meshed pods. The frontend calls all
# three backends while tcpdump records the bridge between the pods: the
# recording holds TLS (the ClientHello names Weft's ALPN) and not one byte of
# plaintext HTTP. The backends' proxies saw every request come from the
# frontend's SPIFFE ID. As a control, the same capture of a plaintext call
# (from a pod outside the mesh) does show "GET /", so the check can fail.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

frontend_id=spiffe://cluster.local/ns/demo/sa/frontend
mesh_up mtls
mesh_sample_pods
mesh_plain_pod outsider 30

# capture_start FILE / capture_stop: tcpdump on every port of the hub's bridge
# (br0 itself does not see the frames it forwards between ports, so each
# packet is recorded twice: in on one port, out on another), port 8080 only:
# the apps' port; the control plane's 8443 is TLS anyway. Immediate mode:
# libpcap otherwise holds packets up to a second, and loses them when tcpdump
# is stopped.
capture_start() {
  local file=$1
  : >"$MESH_WORK/logs/tcpdump.log"
  ip netns exec "$(weft_netns_name hub)" tcpdump -i any -n -U --immediate-mode -s 0 -w "$file" \
    'tcp port 8080' 2>>"$MESH_WORK/logs/tcpdump.log" &
  capture_pid=$!
  mesh_wait_until "tcpdump listens" 5 grep -q "listening on" "$MESH_WORK/logs/tcpdump.log"
}
capture_stop() {
  sleep 0.2 # the last packets of the exchange
  kill -INT "$capture_pid"
  wait "$capture_pid" || true
}
# packets FILE: how many packets with a payload; plaintext FILE: how many
# carry the start of an HTTP/1 request or response.
packets() { tcpdump -r "$1" -n 'tcp[tcpflags] & tcp-push != 0' 2>/dev/null | wc -l; }
plaintext() { tcpdump -r "$1" -n -A 2>/dev/null | grep -cE 'GET /|HTTP/1\.1' || true; }

capture_start "$MESH_WORK/mesh.pcap"
# Four at a time, so that the balancer spreads them over every backend.
out=$(MESH_PARALLEL=4 mesh_requests frontend-0 200 "$MESH_BACKEND_URL/")
capture_stop
mesh_expect "200 requests from frontend to backend succeeded" test "$(mesh_count 200 <<<"$out")" -eq 200
for b in backend-v1-0 backend-v1-flaky backend-v2-0; do
  mesh_expect "$b took part" test "$(mesh_count 200 "$b" <<<"$out")" -gt 0
done
n=$(packets "$MESH_WORK/mesh.pcap")
mesh_expect "the capture saw the traffic ($n packets with data)" test "$n" -ge 200
mesh_expect "it is TLS with Weft's ALPN" grep -qa "weft/http1" "$MESH_WORK/mesh.pcap"
p=$(plaintext "$MESH_WORK/mesh.pcap")
mesh_expect "no plaintext HTTP on the wire between meshed pods ($p packets)" test "$p" -eq 0

by_peer=0
for b in backend-v1-0 backend-v1-flaky backend-v2-0; do
  by_peer=$((by_peer + $(mesh_metric "$b" weft_inbound_requests_by_peer_total "peer=\"$frontend_id\"")))
  plain=$(mesh_metric "$b" weft_inbound_requests_by_peer_total 'peer=""')
  mesh_expect "$b got no plaintext request ($plain)" test "$plain" -eq 0
done
mesh_expect "the backends saw all 200 requests from $frontend_id ($by_peer)" test "$by_peer" -eq 200
ok=$(mesh_metric frontend-0 weft_tls_handshakes_total 'direction="outbound"' 'result="ok"')
mesh_expect "the frontend's proxy made mTLS handshakes ($ok)" test "$ok" -ge 3

# Control: plaintext from outside the mesh is visible to the same check.
capture_start "$MESH_WORK/plain.pcap"
out=$(mesh_requests outsider 3 "http://$(mesh_ip backend-v1-0):8080/")
capture_stop
mesh_expect "the outsider's plaintext requests succeeded (PERMISSIVE)" test "$(mesh_count 200 <<<"$out")" -eq 3
p=$(plaintext "$MESH_WORK/plain.pcap")
mesh_expect "the check sees plaintext when there is some ($p packets)" test "$p" -ge 3
plain=$(mesh_metric backend-v1-0 weft_inbound_requests_by_peer_total 'peer=""')
mesh_expect "and the backend counted them as plaintext ($plain)" test "$plain" -eq 3

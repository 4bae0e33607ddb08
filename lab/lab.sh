#!/usr/bin/env bash
# jq programs are written in single quotes on purpose: their $names are jq's, not the shell's.
# shellcheck disable=SC2016
# The network lab: the seed's two scenarios rebuilt with the kernel's own networking (network
# namespaces, veth pairs, routes, nftables, tc) and a real DNS server (dnsmasq), with the real
# binary run the way Function Compute runs it. See README.md, section "Network lab".
#
#   lab/lab.sh run     build both scenarios, invoke the function in each, print the reports, tear down
#   lab/lab.sh test    the failure matrix: every failure mode, each asserted on class and hint
#   lab/lab.sh up      build the topology and keep it until Ctrl-C (to look around with ip netns exec)
#   lab/lab.sh gc      remove what a lab run killed with SIGKILL left behind (runs whose owner is gone)
#
# Needs root, iproute2, nftables, dnsmasq (dnsmasq-base), curl and jq (`make deps` installs them).
# Without root it says why and exits 0. The binary is target/debug/apigw-vpc-probe (built with
# cargo unless APIGW_LAB_BIN names another one).
#
# Isolation: every namespace is named <role>-<run id>, the run id unique per run (mktemp); every
# veth is created directly inside its two namespaces (`ip -n A link add X type veth peer name Y
# netns B`), so interface names are local to the lab's namespaces and never exist in the host's.
# No interface of the lab is in the host namespace and no namespace has a route out of the lab:
# every packet stays between the lab's namespaces. Everything is removed on exit, also after a
# failure, Ctrl-C or SIGTERM.
set -euo pipefail

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CMD=${1:-run}

# ---------------------------------------------------------------------------------------------
# Addresses (see the diagram in README.md)
# ---------------------------------------------------------------------------------------------
GROUP=0f3c5a7e9b1d4c2e8a6f0b3d5c7e9a1b # the API group (32 hex)
REGION_API=cn-shanghai                  # region of the group, the instance and vpc-api-access
REGION_FC=cn-zhangjiakou                # region of scenario 2's function (vpc-fc-access)
DOMAIN="$GROUP-$REGION_API-vpc.alicloudapi.com"

DNS1=100.100.2.136 # the VPC's DNS servers (Alibaba Cloud DNS)
DNS2=100.100.2.138

# vpc-api-access (cn-shanghai) 192.168.0.0/16: the dedicated instance's authorized inbound VPC.
VPC_API_CIDR=192.168.0.0/16
VSW_SH_GW=192.168.1.1     # vSwitch vsw-fc-sh 192.168.1.0/24
FC_SH_IP=192.168.1.20     # the function's ENI (scenario 1)
CUSTOM_DNS=192.168.1.53   # a customDNS server that is not the VPC's DNS (nothing answers there)
GW_IN_RANGE=100.104.112.0/26 # the instance's inbound (VPC access) range, routed in vpc-api-access
GW_IN_RTR=100.104.112.1
GW_IN_IP=100.104.112.10   # what the VPC second-level domain resolves to
# vpc-backend-1 10.1.0.0/16: the backend's VPC, reached from the instance's VPC egress range.
VPC_BE_CIDR=10.1.0.0/16
GW_EG_RANGE=100.104.254.0/26 # the instance's VPC egress range (the source backends see)
GW_EG_RTR=100.104.254.1
GW_EG_IP=100.104.254.5
VSW_BE_GW=10.1.1.1
ECS_IP=10.1.1.10          # the backend ECS, port 8080
# vpc-fc-access (cn-zhangjiakou) 172.16.0.0/16, attached to CEN with vpc-api-access.
VPC_FC_CIDR=172.16.0.0/16
VSW_ZJK_GW=172.16.1.1
FC_ZJK_IP=172.16.1.20     # the function's ENI (scenario 2)
# Transfer networks: CEN attachments and the links to the DNS service.
CEN_ATT_FC=10.254.0.1  VPC_FC_ATT=10.254.0.2  # /30
CEN_ATT_API=10.254.0.5 VPC_API_ATT=10.254.0.6 # /30
VPC_API_DNS=10.255.0.1 DNS_API=10.255.0.2     # /30
VPC_FC_DNS=10.255.0.5  DNS_FC=10.255.0.6      # /30
OTHER_VPC_CIDR=10.99.0.0/16 # some other VPC (failure mode 4 authorizes it instead)
CEN_RATE=10mbit             # the CEN bandwidth package
# The app registered on the gateway stand-in and authorized for GET /web/signed (stand-in
# credentials, not real ones).
APP_KEY=204156723
APP_SECRET=lab-app-secret-6c1e0f
WRONG_SECRET=lab-app-secret-000000

# The function's settings, as in its environment variables (no DNS override: /etc/resolv.conf).
TARGETS_JSON="[{\"name\":\"cloudapi\",\"group\":\"$GROUP\",\"region\":\"$REGION_API\",\"path\":\"/web/cloudapi\",\"samples\":3}]"
FN_TIMEOUTS=(APIGW_TIMEOUT_MS=4000 APIGW_DNS_TIMEOUT_MS=1000 APIGW_CONNECT_TIMEOUT_MS=1500)

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
note() { printf 'lab: %s\n' "$*" >&2; }
die() {
  printf 'lab: error: %s\n' "$*" >&2
  exit 2
}

# What this run created, for cleanup.
NAMESPACES=()
declare -A PROCS=() # name -> pid
WORK=""
RUN=""

preflight() {
  if [ "$(id -u)" != 0 ]; then
    say "SKIPPED (network lab): needs root to create network namespaces, veth pairs and nftables rules (run: sudo make $1)"
    exit 0
  fi
  local missing=()
  for tool in ip nft tc dnsmasq curl jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] ||
    die "missing tools: ${missing[*]} (Debian: iproute2 nftables dnsmasq-base curl jq; run \`make deps\`)"
  if [ -n "${APIGW_LAB_BIN:-}" ]; then
    BIN=$APIGW_LAB_BIN
    STANDIN=${APIGW_LAB_STANDIN:-$(dirname "$BIN")/apigw-standin}
  else
    # Both binaries: the function's and the stand-in's (the workspace's default members).
    (cd "$LAB_ROOT" && ${CARGO:-cargo} build --quiet) || die "cargo build failed"
    BIN=$LAB_ROOT/target/debug/apigw-vpc-probe
    STANDIN=$LAB_ROOT/target/debug/apigw-standin
  fi
  [ -x "$BIN" ] || die "no binary at $BIN"
  [ -x "$STANDIN" ] || die "no stand-in binary at $STANDIN"
}

# A fresh run id and work directory; the id is part of every namespace name.
start_run() {
  WORK=$(mktemp -d /tmp/apigw-lab.XXXXXX)
  RUN=${WORK##*.}
  echo $$ >"$WORK/owner"
  trap cleanup EXIT
  trap 'note "interrupted"; exit 130' INT
  trap 'note "terminated"; exit 143' TERM
}

ns() { printf '%s-%s' "$1" "$RUN"; } # ns fc-sh -> fc-sh-<run>

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local name pid
  for name in "${!PROCS[@]}"; do
    kill -TERM "${PROCS[$name]}" 2>/dev/null
  done
  for name in "${!PROCS[@]}"; do
    pid=${PROCS[$name]}
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  remove_namespaces "${NAMESPACES[@]}"
  if [ -n "$WORK" ]; then
    if [ "$rc" != 0 ] && [ "$rc" != 130 ] && [ "$rc" != 143 ]; then
      for f in "$WORK"/*.log; do
        [ -s "$f" ] || continue
        case $(basename "$f") in fn-*) continue ;; esac # the function's reports are printed
        note "--- last lines of $(basename "$f")"
        tail -n 15 "$f" >&2
      done
    fi
    rm -rf "$WORK"
  fi
  if [ -n "$RUN" ]; then
    local left
    left=$(ip netns list | awk '{print $1}' | grep -c -- "-$RUN\$" || true)
    [ "$left" = 0 ] || note "warning: $left namespaces of run $RUN are left (lab/lab.sh gc removes them)"
  fi
  exit "$rc"
}

# Removes namespaces (and what still runs in them: only the lab's own processes can be there).
remove_namespaces() {
  local n pid
  for n in "$@"; do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
    rm -rf "/etc/netns/$n"
  done
}

# `gc`: runs whose owner process is gone (killed with SIGKILL) left namespaces behind.
gc() {
  local d run owner
  for d in /tmp/apigw-lab.*; do
    [ -d "$d" ] || continue
    owner=$(cat "$d/owner" 2>/dev/null || echo 0)
    if [ "$owner" != 0 ] && kill -0 "$owner" 2>/dev/null; then continue; fi
    run=${d##*.}
    mapfile -t stale < <(ip netns list | awk '{print $1}' | grep -- "-$run\$" || true)
    note "removing run $run (${#stale[@]} namespaces)"
    remove_namespaces "${stale[@]}"
    rm -rf "$d"
  done
}

add_ns() {
  local n
  n=$(ns "$1")
  ip netns add "$n"
  NAMESPACES+=("$n")
  ip -n "$n" link set lo up
}

# link A IF_A ADDR_A/LEN B IF_B ADDR_B/LEN: a veth pair created inside A and B.
link() {
  local a b
  a=$(ns "$1") b=$(ns "$4")
  ip -n "$a" link add "$2" type veth peer name "$5" netns "$b"
  ip -n "$a" addr add "$3" dev "$2"
  ip -n "$b" addr add "$6" dev "$5"
  ip -n "$a" link set "$2" up
  ip -n "$b" link set "$5" up
}

in_ns() { # in_ns ROLE CMD...
  local n
  n=$(ns "$1")
  shift
  ip netns exec "$n" "$@"
}

# A router forwards, and answers every packet it has no route for with ICMP net unreachable (no
# rate limit, so that each sample of a probe sees the same answer).
router() { in_ns "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0; }

route() { # route ROLE ARGS... (ip route add)
  local n
  n=$(ns "$1")
  shift
  ip -n "$n" route add "$@"
}

nft_in() { # nft_in ROLE: rules on stdin
  local n
  n=$(ns "$1")
  ip netns exec "$n" nft -f -
}

# start NAME ROLE CMD...: a long-running process in a namespace, logged to $WORK/NAME.log.
start() {
  local name=$1 role=$2
  shift 2
  ip netns exec "$(ns "$role")" "$@" >>"$WORK/$name.log" 2>&1 &
  PROCS[$name]=$!
}

stop() {
  local pid=${PROCS[$1]:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PROCS[$1]"
}

# wait_tcp ROLE ADDR PORT NAME: until something accepts there (10 s).
wait_tcp() {
  local _
  for _ in $(seq 200); do
    if in_ns "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then return 0; fi
    kill -0 "${PROCS[$4]}" 2>/dev/null || die "$4 exited: $(tail -n 5 "$WORK/$4.log")"
    sleep 0.05
  done
  die "$4 does not accept on $2:$3"
}

# wait_listening NAME: until the stand-in NAME has printed its listening line (10 s).
wait_listening() {
  local _
  for _ in $(seq 200); do
    if grep -q '"listen"' "$WORK/$1.log" 2>/dev/null; then return 0; fi
    kill -0 "${PROCS[$1]}" 2>/dev/null || die "$1 exited: $(tail -n 5 "$WORK/$1.log")"
    sleep 0.05
  done
  die "$1 did not start listening"
}

# ---------------------------------------------------------------------------------------------
# The topology
# ---------------------------------------------------------------------------------------------
build() {
  local r
  for r in dns vpc-api vpc-be vpc-fc cen fc-sh fc-zjk apigw ecs; do add_ns "$r"; done
  for r in vpc-api vpc-be vpc-fc cen; do router "$r"; done

  # Alibaba Cloud DNS: 100.100.2.136/138, reachable from both VPCs.
  in_ns dns ip addr add "$DNS1/32" dev lo
  in_ns dns ip addr add "$DNS2/32" dev lo
  link vpc-api to-dns "$VPC_API_DNS/30" dns to-api "$DNS_API/30"
  link vpc-fc to-dns "$VPC_FC_DNS/30" dns to-fc "$DNS_FC/30"
  route dns "$VPC_API_CIDR" via "$VPC_API_DNS"
  route dns "$VPC_FC_CIDR" via "$VPC_FC_DNS"

  # Scenario 1: the function's ENI on vsw-fc-sh in vpc-api-access.
  link fc-sh eth0 "$FC_SH_IP/24" vpc-api vsw-fc-sh "$VSW_SH_GW/24"
  route fc-sh default via "$VSW_SH_GW"
  route vpc-api "$DNS1/32" via "$DNS_API"
  route vpc-api "$DNS2/32" via "$DNS_API"

  # The dedicated instance: inbound side in vpc-api-access, egress side in vpc-backend-1.
  link apigw in0 "$GW_IN_IP/26" vpc-api to-apigw "$GW_IN_RTR/26"
  link apigw eg0 "$GW_EG_IP/26" vpc-be to-apigw "$GW_EG_RTR/26"
  route apigw default via "$GW_IN_RTR" dev in0
  route apigw "$VPC_BE_CIDR" via "$GW_EG_RTR" dev eg0 src "$GW_EG_IP"
  # Inbound access: only the authorized VPC (and what CEN routes into it) may connect.
  nft_in apigw <<EOF
table inet apigw_inbound {
  set authorized {
    type ipv4_addr; flags interval
    elements = { $VPC_API_CIDR, $VPC_FC_CIDR }
  }
  counter dropped {}
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "in0" tcp dport { 80, 443 } ip saddr != @authorized counter name dropped drop
  }
}
EOF

  # The backend ECS in vpc-backend-1; its security group admits only the egress range.
  link ecs eth0 "$ECS_IP/24" vpc-be vsw-ecs "$VSW_BE_GW/24"
  route ecs default via "$VSW_BE_GW"
  nft_in ecs <<EOF
table inet ecs_security_group {
  set allowed {
    type ipv4_addr; flags interval
    elements = { $GW_EG_RANGE }
  }
  counter admitted {}
  counter rejected {}
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 8080 ip saddr @allowed counter name admitted accept
    tcp dport 8080 counter name rejected reject with tcp reset
  }
}
EOF

  # Scenario 2: the function in vpc-fc-access (cn-zhangjiakou), CEN between the two VPCs.
  link fc-zjk eth0 "$FC_ZJK_IP/24" vpc-fc vsw-fc-zjk "$VSW_ZJK_GW/24"
  route fc-zjk default via "$VSW_ZJK_GW"
  route vpc-fc "$DNS1/32" via "$DNS_FC"
  route vpc-fc "$DNS2/32" via "$DNS_FC"
  link cen att-fc "$CEN_ATT_FC/30" vpc-fc to-cen "$VPC_FC_ATT/30"
  link cen att-api "$CEN_ATT_API/30" vpc-api to-cen "$VPC_API_ATT/30"
  # VPC attachments: each VPC's CIDR, learned by the transit router and by the other VPC.
  route cen "$VPC_FC_CIDR" via "$VPC_FC_ATT"
  route cen "$VPC_API_CIDR" via "$VPC_API_ATT"
  route vpc-api "$VPC_FC_CIDR" via "$CEN_ATT_API"
  route vpc-fc "$VPC_API_CIDR" via "$CEN_ATT_FC"
  cen_service_route add
  nft_in cen <<EOF
table inet cen {
  counter dropped {}
  chain forward {
    type filter hook forward priority 0; policy accept;
  }
}
EOF
  # The bandwidth package: a rate limit each way (tbf), under a cross-region delay (netem) when
  # the kernel has netem.
  local dev delay=""
  CEN_SHAPING=""
  for dev in att-fc att-api; do
    if in_ns cen tc qdisc add dev "$dev" root handle 1: netem delay 15ms 2>/dev/null; then
      delay=", 15 ms delay each way (netem)"
      in_ns cen tc qdisc add dev "$dev" parent 1:1 handle 10: tbf rate "$CEN_RATE" burst 32kbit latency 50ms 2>/dev/null ||
        CEN_SHAPING="no rate limit: this kernel has no tbf qdisc"
    elif ! in_ns cen tc qdisc add dev "$dev" root tbf rate "$CEN_RATE" burst 32kbit latency 50ms 2>/dev/null; then
      CEN_SHAPING="no rate limit: this kernel has no tbf qdisc"
    fi
  done
  [ -n "$delay" ] || delay="; no cross-region delay: this kernel has no netem qdisc"
  CEN_SHAPING="${CEN_SHAPING:-bandwidth package $CEN_RATE each way (tc tbf)}$delay"

  start_dns with-domain
  start gateway apigw "$STANDIN" gateway --listen "$GW_IN_IP:80" --group "$GROUP" \
    --region "$REGION_API" --backend-timeout-ms 3000 \
    --api "GET:/web/cloudapi:RELEASE,TEST=http://$ECS_IP:8080/web/cloudapi" \
    --api "GET:/web/preview:TEST=http://$ECS_IP:8080/web/cloudapi" \
    --app "$APP_KEY=$APP_SECRET" --signed-api "GET:/web/signed:RELEASE=http://$ECS_IP:8080/web/cloudapi"
  start backend ecs "$STANDIN" backend --listen "$ECS_IP:8080"
  # They print {"standin": ..., "listen": ...} once bound. (A TCP check from inside ecs would
  # be rejected by its own security group.)
  wait_listening gateway
  wait_listening backend

  # The functions' /etc/resolv.conf, as FC writes it: the VPC's DNS servers.
  set_resolv fc-sh "$DNS1" "$DNS2"
  set_resolv fc-zjk "$DNS1" "$DNS2"
}

# The seed's ResolveAndRouteServiceInCen step: the instance's inbound range routed through CEN
# to vpc-api-access, and propagated into vpc-fc-access's route table.
cen_service_route() {
  if [ "$1" = add ]; then
    route cen "$GW_IN_RANGE" via "$VPC_API_ATT"
    route vpc-fc "$GW_IN_RANGE" via "$CEN_ATT_FC"
  else
    ip -n "$(ns cen)" route del "$GW_IN_RANGE"
    ip -n "$(ns vpc-fc)" route del "$GW_IN_RANGE"
  fi
}

# dnsmasq at 100.100.2.136/138: answers the group's VPC domain (with-domain) or not (without),
# NXDOMAIN for any other name under alicloudapi.com, REFUSED for the rest (no upstream).
start_dns() {
  local args=(--keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts
    --bind-interfaces "--listen-address=$DNS1" "--listen-address=$DNS2"
    "--pid-file=$WORK/dnsmasq.pid" "--log-facility=$WORK/dnsmasq-queries.log" --log-queries
    --user=root --group=root "--local=/alicloudapi.com/")
  [ "$1" = with-domain ] && args+=("--address=/$DOMAIN/$GW_IN_IP")
  start dnsmasq dns dnsmasq "${args[@]}"
  local _
  for _ in $(seq 100); do
    if [ -n "$(in_ns dns ss -Hlun "sport = :53")" ]; then return 0; fi
    kill -0 "${PROCS[dnsmasq]}" 2>/dev/null || die "dnsmasq exited: $(tail -n 5 "$WORK/dnsmasq.log")"
    sleep 0.05
  done
  die "dnsmasq does not listen"
}

restart_dns() {
  stop dnsmasq
  start_dns "$1"
}

set_resolv() { # set_resolv ROLE SERVER...
  local n s
  n=$(ns "$1")
  shift
  mkdir -p "/etc/netns/$n"
  : >"/etc/netns/$n/resolv.conf"
  for s in "$@"; do echo "nameserver $s" >>"/etc/netns/$n/resolv.conf"; done
}

counter() { # counter ROLE TABLE NAME -> packets
  in_ns "$1" nft list counter inet "$2" "$3" | awk '{for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1)}'
}

# ---------------------------------------------------------------------------------------------
# The function, run as FC runs it, and one invocation
# ---------------------------------------------------------------------------------------------
INVOCATIONS=0
# invoke ROLE REGION OUT EVENT [VAR=VALUE...]: start `serve` in the function's namespace with a
# clean environment (FC's variables and the function's APIGW_*), POST /invoke the event from
# inside the namespace as FC's agent does, stop the instance. Writes OUT (report), OUT.status,
# OUT.headers.
invoke() {
  local role=$1 region=$2 out=$3 event=$4
  shift 4
  INVOCATIONS=$((INVOCATIONS + 1))
  local name="fn-$role-$INVOCATIONS"
  start "$name" "$role" env -i PATH=/usr/local/bin:/usr/bin:/bin \
    FC_CUSTOM_LISTEN_PORT=9000 FC_REGION="$region" FC_FUNCTION_NAME=apigw-vpc-probe \
    FC_FUNCTION_MEMORY_SIZE=128 FC_FUNCTION_HANDLER=index.handler RUST_LOG=info \
    APIGW_TARGETS="$TARGETS_JSON" "${FN_TIMEOUTS[@]}" "$@" "$BIN" serve
  wait_tcp "$role" 127.0.0.1 9000 "$name"
  in_ns "$role" curl -sS -o "$out" -D "$out.headers" -w '%{http_code}' --max-time 30 \
    -X POST -H "x-fc-request-id: lab-$RUN-$INVOCATIONS" -H "x-fc-region: $region" \
    -H 'x-fc-function-name: apigw-vpc-probe' -H 'x-fc-function-timeout: 30' \
    -H 'x-fc-control-path: /invoke' -H 'content-type: application/octet-stream' \
    --data-binary "$event" http://127.0.0.1:9000/invoke >"$out.status"
  stop "$name"
}

topology_summary() {
  cat <<EOF
lab run $RUN: namespaces ${NAMESPACES[*]}
  scenario 1 ($REGION_API): fc-sh $FC_SH_IP (vsw-fc-sh in vpc-api-access $VPC_API_CIDR)
      -> apigw inbound $GW_IN_IP ($GW_IN_RANGE) -> egress $GW_EG_IP ($GW_EG_RANGE)
      -> ecs $ECS_IP:8080 (vpc-backend-1 $VPC_BE_CIDR; security group admits $GW_EG_RANGE)
  scenario 2 ($REGION_FC): fc-zjk $FC_ZJK_IP (vpc-fc-access $VPC_FC_CIDR)
      -> cen ($CEN_SHAPING) -> vpc-api-access -> apigw $GW_IN_IP
  DNS: dnsmasq at $DNS1/$DNS2: $DOMAIN -> $GW_IN_IP
EOF
}

# ---------------------------------------------------------------------------------------------
# run: both scenarios healthy, reports printed
# ---------------------------------------------------------------------------------------------
cmd_run() {
  preflight lab
  start_run
  build
  topology_summary
  local r
  for r in "fc-sh $REGION_API" "fc-zjk $REGION_FC"; do
    # shellcheck disable=SC2086 # split "<namespace> <region>" into $1 and $2
    set -- $r
    invoke "$1" "$2" "$WORK/$1.json" '{}'
    say ""
    say "=== scenario $([ "$1" = fc-sh ] && echo "1, same region" || echo "2, cross region"): POST /invoke in $(ns "$1") (FC_REGION=$2) -> HTTP $(cat "$WORK/$1.json.status")"
    jq . "$WORK/$1.json"
  done
  say ""
  say "summary:"
  for r in fc-sh fc-zjk; do
    jq -r --arg ns "$r" '.targets[] | "  \($ns): \(if .ok then "OK  " else "FAIL" end) \(.name)  dns \(.dns.addresses | join(",")) [\(.dns.scope)] via \(.dns.servers | join(","))  total ms \([.samples[].phases_ms.total] | map(tostring) | join(" "))\(if .error then "  " + .error.class else "" end)"' "$WORK/$r.json"
  done
}

# ---------------------------------------------------------------------------------------------
# test: the failure matrix
# ---------------------------------------------------------------------------------------------
PASSED=0
FAILED=0
FAILURES=()

# check OUT DESCRIPTION JQ-FILTER [jq args...]: one assertion on the report.
check() {
  local out=$1 what=$2 filter=$3
  shift 3
  if ! jq -e "$@" "$filter" "$out" >/dev/null 2>&1; then
    CASE_ERRORS+=("$(basename "$out" .json): $what")
  fi
}

# expect_failure OUT CLASS HINT: the invocation failed the FC way and names CLASS with HINT.
expect_failure() {
  local out=$1 class=$2 hint=$3
  local id
  id=$(basename "$out" .json)
  [ "$(cat "$out.status")" = 404 ] || CASE_ERRORS+=("$id: HTTP status $(cat "$out.status"), expected 404")
  grep -qi '^x-fc-status: 404' "$out.headers" || CASE_ERRORS+=("$id: no x-fc-status: 404")
  check "$out" "ok is false" '.ok == false'
  check "$out" "target error class $class" '.targets[0].error.class == $c' --arg c "$class"
  check "$out" "every sample's class $class" '[.targets[0].samples[].error.class] | length > 0 and all(. == $c)' --arg c "$class"
  check "$out" "hint contains \"$hint\"" '.targets[0].error.hint | contains($h)' --arg h "$hint"
}

# expect_healthy OUT ROLE: ok, VPC DNS, not public, plausible phases, through the gateway.
expect_healthy() {
  local out=$1
  local id
  id=$(basename "$out" .json)
  [ "$(cat "$out.status")" = 200 ] || CASE_ERRORS+=("$id: HTTP status $(cat "$out.status"), expected 200")
  grep -qi '^x-fc-status: 200' "$out.headers" || CASE_ERRORS+=("$id: no x-fc-status: 200")
  check "$out" "ok is true" '.ok == true and .targets[0].ok == true'
  check "$out" "dns: $DOMAIN -> $GW_IN_IP" '.targets[0].dns.host == $d and .targets[0].dns.addresses == [$a]' --arg d "$DOMAIN" --arg a "$GW_IN_IP"
  check "$out" "dns scope alibaba-service (not public)" '.targets[0].dns.scope == "alibaba-service"'
  check "$out" "dns servers from resolv.conf ($DNS1, $DNS2)" '.targets[0].dns.servers == [$a, $b]' --arg a "$DNS1:53" --arg b "$DNS2:53"
  check "$out" "no warnings" '(.targets[0].warnings // []) | length == 0'
  check "$out" "3 samples, each 200 from $GW_IN_IP:80 with X-Ca-Request-Id" \
    '[.targets[0].samples[] | select(.ok and .status == 200 and .remote == $r and (.gateway.request_id | type) == "string" and .gateway.error_code == null)] | length == 3' --arg r "$GW_IN_IP:80"
  check "$out" "phases plausible: dns, connect, ttfb > 0; tls 0 (http); total = sum; total < 1 s" \
    '[.targets[0].samples[].phases_ms | select(.dns > 0 and .connect > 0 and .ttfb > 0 and .tls == 0 and .send >= 0 and .transfer >= 0 and .total < 1000 and ((.dns + .connect + .tls + .send + .ttfb + .transfer - .total) | (if . < 0 then -. else . end)) < 0.02)] | length == 3'
  check "$out" "latency summary min <= p50 <= max" '.targets[0].latency_ms | .min <= .p50 and .p50 <= .max'
}

expect_counter() { # expect_counter ROLE TABLE NAME WHAT: the counter moved (packets seen there)
  local n
  n=$(counter "$1" "$2" "$3")
  [ "${n:-0}" -gt 0 ] || CASE_ERRORS+=("$4 (nft counter $2 $3 in $1 is ${n:-?})")
}

# run_case ID TITLE APPLY REVERT BODY: apply one change, run BODY (invocations + expectations),
# always revert, report PASS/FAIL with the time taken.
run_case() {
  local id=$1 title=$2 apply=$3 revert=$4 body=$5
  CASE_ERRORS=()
  local t0 t1
  t0=$(date +%s%N)
  $apply
  local body_rc=0
  $body || body_rc=$?
  $revert
  [ "$body_rc" = 0 ] || CASE_ERRORS+=("case body failed ($body_rc)")
  t1=$(date +%s%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  if [ ${#CASE_ERRORS[@]} -eq 0 ]; then
    PASSED=$((PASSED + 1))
    printf 'PASS  %-4s %s  (%s s)\n' "$id" "$title" "$secs"
    [ ${#CASE_NOTES[@]} -eq 0 ] || printf '      %s\n' "${CASE_NOTES[@]}"
  else
    FAILED=$((FAILED + 1))
    FAILURES+=("$id $title")
    printf 'FAIL  %-4s %s  (%s s)\n' "$id" "$title" "$secs"
    printf '      - %s\n' "${CASE_ERRORS[@]}"
    local f
    for f in "${CASE_OUTS[@]}"; do
      say "      report $(basename "$f") (HTTP $(cat "$f.status" 2>/dev/null)):"
      jq -c '{ok, targets: [.targets[] | {dns, error, first_sample: .samples[0]}]}' "$f" 2>/dev/null | sed 's/^/        /' ||
        sed 's/^/        /' "$f"
    done
  fi
  CASE_NOTES=()
  CASE_OUTS=()
}
CASE_NOTES=()
CASE_OUTS=()

# one_failure ROLE REGION NAME EVENT CLASS HINT [VAR=VALUE...]: an invocation (with these extra
# environment variables) expected to fail with CLASS and HINT.
one_failure() {
  local role=$1 region=$2 name=$3 event=$4 class=$5 hint=$6
  shift 6
  local out="$WORK/$name.json"
  CASE_OUTS+=("$out")
  invoke "$role" "$region" "$out" "$event" "$@"
  expect_failure "$out" "$class" "$hint"
  CASE_NOTES+=("$role: $(jq -r '.targets[0].error | "\(.class): \(.message)"' "$out" 2>/dev/null)")
}

nothing() { :; }

# --- 1: both scenarios healthy
case_healthy() {
  local before after
  before=$(counter ecs ecs_security_group admitted)
  for r in "fc-sh $REGION_API" "fc-zjk $REGION_FC"; do
    # shellcheck disable=SC2086 # split "<namespace> <region>" into $1 and $2
    set -- $r
    local out="$WORK/healthy-$1.json"
    CASE_OUTS+=("$out")
    invoke "$1" "$2" "$out" '{}'
    expect_healthy "$out"
    CASE_NOTES+=("$1: ok, $(jq -r '.targets[0] | "\(.dns.addresses[0]) [\(.dns.scope)] via \(.dns.servers | join(",")), total ms \([.samples[].phases_ms.total] | map(tostring) | join(" "))"' "$out")")
  done
  after=$(counter ecs ecs_security_group admitted)
  [ "$after" -gt "$before" ] || CASE_ERRORS+=("the backend admitted no packet from the egress range $GW_EG_RANGE")
  expect_counter ecs ecs_security_group admitted "the gateway reached the backend from its egress range"
  CASE_NOTES+=("ecs security group admitted $((after - before)) packets from $GW_EG_RANGE; cen: $CEN_SHAPING")
}

# --- 2: the VPC second-level domain is not enabled: the VPC's DNS does not know the name
dns_without_domain() { restart_dns without-domain; }
dns_with_domain() { restart_dns with-domain; }
case_nxdomain() {
  one_failure fc-sh "$REGION_API" nxdomain-sh '{}' dns.nxdomain "enable its VPC second-level domain"
  one_failure fc-zjk "$REGION_FC" nxdomain-zjk '{}' dns.nxdomain "enable its VPC second-level domain"
}

# --- 3: the function has no VPC access: no ENI in the VPC, only the platform's DNS
no_vpc_access() {
  ip -n "$(ns fc-sh)" route del default
  route fc-sh "$DNS1/32" via "$VSW_SH_GW"
  route fc-sh "$DNS2/32" via "$VSW_SH_GW"
}
vpc_access() {
  ip -n "$(ns fc-sh)" route del "$DNS1/32"
  ip -n "$(ns fc-sh)" route del "$DNS2/32"
  route fc-sh default via "$VSW_SH_GW"
}
case_no_vpc_access() {
  one_failure fc-sh "$REGION_API" novpc-sh '{}' tcp.unreachable "give the function VPC access"
}

# --- 4: the function's VPC is not the instance's authorized inbound VPC: SYNs dropped
# set_elements NS TABLE SET ELEMENTS: replace the contents of an nftables set.
set_elements() {
  in_ns "$1" nft flush set inet "$2" "$3"
  in_ns "$1" nft add element inet "$2" "$3" "{ $4 }"
}
authorize_other_vpc() { set_elements apigw apigw_inbound authorized "$OTHER_VPC_CIDR"; }
authorize_vpcs() { set_elements apigw apigw_inbound authorized "$VPC_API_CIDR, $VPC_FC_CIDR"; }
case_not_authorized() {
  one_failure fc-sh "$REGION_API" unauth-sh '{}' tcp.timeout "authorized inbound VPC (入访VPC)"
  one_failure fc-zjk "$REGION_FC" unauth-zjk '{}' tcp.timeout "(region $REGION_API) is not reachable from this function (region $REGION_FC)"
  expect_counter apigw apigw_inbound dropped "the gateway's inbound side dropped the SYNs"
  # Same network failure, different hints: the function can tell the regions apart.
  local same cross
  same=$(jq -r '.targets[0].error.hint' "$WORK/unauth-sh.json")
  cross=$(jq -r '.targets[0].error.hint' "$WORK/unauth-zjk.json")
  [ "$same" != "$cross" ] || CASE_ERRORS+=("same-region and cross-region timeout hints are identical")
  case $same in *"bandwidth package"*) CASE_ERRORS+=("the same-region hint names the bandwidth package") ;; esac
}

# --- 5: CEN has no route for the instance's range (ResolveAndRouteServiceInCen not done)
no_cen_route() { cen_service_route del; }
cen_route() { cen_service_route add; }
case_no_cen_route() {
  one_failure fc-zjk "$REGION_FC" nocenroute-zjk '{}' tcp.unreachable "a CEN route for the gateway's address range"
}

# --- 5b: the route is there but CEN drops cross-region traffic (no bandwidth package)
cen_drops() { in_ns cen nft add rule inet cen forward iifname att-fc oifname att-api counter name dropped drop; }
cen_forwards() { in_ns cen nft flush chain inet cen forward; }
case_cen_drops() {
  one_failure fc-zjk "$REGION_FC" cendrop-zjk '{}' tcp.timeout "bandwidth package between the two regions"
  expect_counter cen cen dropped "CEN dropped the SYNs"
}

# --- 6: customDNS without 100.100.2.136/138: the named server does not answer
custom_dns() { set_resolv fc-sh "$CUSTOM_DNS"; }
vpc_dns() { set_resolv fc-sh "$DNS1" "$DNS2"; }
case_custom_dns() {
  one_failure fc-sh "$REGION_API" customdns-sh '{}' dns.timeout "customDNS, if set, must keep those servers"
  check "$WORK/customdns-sh.json" "dns servers: only $CUSTOM_DNS" '.targets[0].dns.servers == [$s]' --arg s "$CUSTOM_DNS:53"
}

# --- 7: the backend's security group does not admit the instance's egress range
sg_without_egress() { set_elements ecs ecs_security_group allowed "$VPC_API_CIDR"; }
sg_with_egress() { set_elements ecs ecs_security_group allowed "$GW_EG_RANGE"; }
case_sg() {
  one_failure fc-sh "$REGION_API" sg-sh '{}' gateway.D504CO "egress range"
  one_failure fc-zjk "$REGION_FC" sg-zjk '{}' gateway.D504CO "egress range"
  expect_counter ecs ecs_security_group rejected "the security group rejected the gateway's connection"
}

# --- 8: the API is not published to the stage called (RELEASE); published to TEST it works
case_stage() {
  local url="http://$DOMAIN/web/preview"
  one_failure fc-sh "$REGION_API" stage-sh "{\"url\":\"$url\"}" gateway.I404NF "published to the stage sent in X-Ca-Stage"
  local out="$WORK/stage-test-sh.json"
  CASE_OUTS+=("$out")
  invoke fc-sh "$REGION_API" "$out" "{\"url\":\"$url\",\"stage\":\"TEST\"}"
  check "$out" "with X-Ca-Stage: TEST the same API answers 200" '.ok == true and .targets[0].samples[0].status == 200'
  CASE_NOTES+=("fc-sh: $url with stage TEST: ok")
}

# --- 9: a wrong AppSecret: the gateway's signature check fails
case_wrong_secret() {
  local url="http://$DOMAIN/web/signed"
  one_failure fc-sh "$REGION_API" secret-sh "{\"url\":\"$url\"}" gateway.A403IS "set APIGW_APP_SECRET to the app's AppSecret" \
    APIGW_APP_KEY="$APP_KEY" APIGW_APP_SECRET="$WRONG_SECRET"
  one_failure fc-zjk "$REGION_FC" secret-zjk "{\"url\":\"$url\"}" gateway.A403IS "set APIGW_APP_SECRET to the app's AppSecret" \
    APIGW_APP_KEY="$APP_KEY" APIGW_APP_SECRET="$WRONG_SECRET"
  check "$WORK/secret-sh.json" "the message says the strings to sign are identical (so the secret is wrong)" '.targets[0].error.message | contains("the strings to sign are identical")'
  check "$WORK/secret-sh.json" "the wrong secret appears nowhere in the report" '(tostring | contains($s)) | not' --arg s "$WRONG_SECRET"
  check "$WORK/secret-sh.json" "the event's target is signed: its host is the configured target's" '.targets[0].auth == "app"'
  local out="$WORK/secret-right-sh.json"
  CASE_OUTS+=("$out")
  invoke fc-sh "$REGION_API" "$out" "{\"url\":\"$url\"}" APIGW_APP_KEY="$APP_KEY" APIGW_APP_SECRET="$APP_SECRET"
  check "$out" "with the right AppSecret the signed API answers 200" '.ok == true and .targets[0].samples[0].status == 200'
  CASE_NOTES+=("fc-sh: $url with the right AppSecret: ok")
}

cmd_test() {
  preflight lab-test
  start_run
  local t0
  t0=$(date +%s)
  build
  topology_summary
  say ""
  run_case 1 "both scenarios healthy (serve + POST /invoke, resolv.conf = VPC DNS)" nothing nothing case_healthy
  run_case 2 "VPC second-level domain not enabled -> dns.nxdomain" dns_without_domain dns_with_domain case_nxdomain
  run_case 3 "function without VPC access (no route to the VPC) -> tcp.unreachable" no_vpc_access vpc_access case_no_vpc_access
  run_case 4 "function's VPC not authorized for inbound access -> tcp.timeout, hint per region" authorize_other_vpc authorize_vpcs case_not_authorized
  run_case 5 "CEN route for the gateway's range missing -> tcp.unreachable, CEN hint" no_cen_route cen_route case_no_cen_route
  run_case 5b "CEN drops cross-region traffic (no bandwidth package) -> tcp.timeout, CEN hint" cen_drops cen_forwards case_cen_drops
  run_case 6 "customDNS without 100.100.2.136/138 -> dns.timeout" custom_dns vpc_dns case_custom_dns
  run_case 7 "backend security group without the egress range -> gateway.D504CO" sg_without_egress sg_with_egress case_sg
  run_case 8 "API not published to the stage -> gateway.I404NF" nothing nothing case_stage
  run_case 9 "wrong AppSecret -> gateway.A403IS" nothing nothing case_wrong_secret
  # After the matrix the lab is healthy again: every change was reverted.
  run_case 10 "healthy again after every change was reverted" nothing nothing case_healthy
  say ""
  say "lab matrix: $PASSED passed, $FAILED failed in $(($(date +%s) - t0)) s"
  if [ "$FAILED" != 0 ]; then
    printf '  failed: %s\n' "${FAILURES[@]}"
    exit 1
  fi
}

cmd_up() {
  preflight lab
  start_run
  build
  topology_summary
  say ""
  say "The lab stays up until Ctrl-C. Look around, e.g.:"
  say "  ip netns exec $(ns fc-sh) $BIN probe http://$DOMAIN/web/cloudapi"
  say "  ip netns exec $(ns fc-zjk) $BIN probe http://$DOMAIN/web/cloudapi -n 3"
  say "  ip -n $(ns cen) route; ip netns exec $(ns ecs) nft list ruleset"
  while true; do sleep 3600; done
}

case $CMD in
run) cmd_run ;;
test) cmd_test ;;
up) cmd_up ;;
gc)
  [ "$(id -u)" = 0 ] || die "gc needs root"
  gc
  ;;
*)
  say "usage: lab/lab.sh run|test|up|gc" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# jq programs are written in single quotes on purpose: their $names are jq's, not the shell's.
# shellcheck disable=SC2016
# The network lab: the seed's two scenarios rebuilt with the kernel's own networking (network
# namespaces, veth pairs, routes, nftables, tc) and a real DNS server (dnsmasq), with the real
# binary run the way Function Compute runs it. See README.md, section "Network lab".
#
#   lab/lab.sh run     build both scenarios, invoke the function in each, print the reports, tear down
#   lab/lab.sh test    the failure matrix: every failure mode, each asserted on class, hint and the
#                      configuration cross-check's verdict (the stand-in control plane, one world)
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
# Short limits keep the matrix fast: every answer in the lab takes a few milliseconds.
FN_TIMEOUTS=(APIGW_TIMEOUT_MS=4000 APIGW_DNS_TIMEOUT_MS=700 APIGW_CONNECT_TIMEOUT_MS=500)

# The stand-in control plane (the OpenAPI of CloudAPI, FC, VPC and CEN). One process in apigw
# serves both the gateway on in0 and the OpenAPI, from one world, so that the gateway's APIs,
# stages and apps are the very ones the OpenAPI describes. Its OpenAPI address is on Alibaba's
# service network (100.64.0.0/10, a system route in every VPC), reached from both VPCs through
# the dns namespace like the VPC endpoints and the VPC DNS are: not through CEN, not through the
# instance's inbound filter. Its answers leave by the same way (a source route in apigw).
CP_IP=100.100.80.10
DNS_SVC=10.255.0.9 APIGW_SVC=10.255.0.10 # /30
CP_URL="http://$CP_IP"
# The world's ids for what the lab builds (ids in Alibaba Cloud's formats, the regions' prefixes).
ACCOUNT=1357924680135792
INSTANCE="apigateway-sh-lab0c4e2a9f1b"
VPC_API_ID="vpc-uf6labapiaccess00001"  # vpc-api-access, cn-shanghai
VPC_FC_ID="vpc-8vblabfcaccess000001"   # vpc-fc-access, cn-zhangjiakou
VPC_BE_ID="vpc-uf6labbackend0000001"   # vpc-backend-1, cn-shanghai
VPC_OTHER_ID="vpc-uf6labotherconsumer1" # some other VPC of cn-shanghai (10.99.0.0/16)
VSW_SH_ID="vsw-uf6labfcsh000000001"
VSW_ZJK_ID="vsw-8vblabfczjk00000001"
VSW_ECS_ID="vsw-uf6labecs0000000001"
VSW_OTHER_ID="vsw-uf6labother00000001"
RT_API_ID="vtb-uf6labapiaccess0001"
RT_FC_ID="vtb-8vblabfcaccess00001"
RT_BE_ID="vtb-uf6labbackend000001"
RT_OTHER_ID="vtb-uf6labother0000001"
CEN_ID="cen-lab0fc2api0000001"
APP_ID=110000001
OTHER_APP_KEY=204999999 # an AppKey no app of the account has
# The functions' role's STS credentials as FC passes them per invocation (x-fc-access-key-id,
# -secret, x-fc-security-token): the stand-in's, never real ones.
STS_AK=STS.NUlabProbeRole0000001
STS_SECRET=lab-sts-secret-9c2e71d4
STS_TOKEN=CAIS.lab-sts-token-5b8f0e3a
# The function's settings for the cross-check: every product at the control plane (clear text:
# the lab's stand-in credentials only).
OPENAPI_ENV=(APIGW_OPENAPI_ENDPOINT_APIGATEWAY="$CP_URL" APIGW_OPENAPI_ENDPOINT_FC="$CP_URL"
  APIGW_OPENAPI_ENDPOINT_VPC="$CP_URL" APIGW_OPENAPI_ENDPOINT_CBN="$CP_URL" APIGW_OPENAPI_ALLOW_HTTP=1)

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
ADMIN_TOKEN="" # the control plane's admin token (per run)

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
# The world: what the control plane holds about the topology below
# ---------------------------------------------------------------------------------------------
# API Gateway's ApiIds are 32 hex digits; the stand-in's own rule (md5 of "<group> <method> <path>").
api_id() { printf '%s' "$GROUP $1 $2" | md5sum | cut -c1-32; }
API_CLOUDAPI=$(api_id GET /web/cloudapi)
API_PREVIEW=$(api_id GET /web/preview)
API_SIGNED=$(api_id GET /web/signed)

# Route entries, by table: system routes (the vSwitch's CIDR, the service range 100.64.0.0/10)
# and what CEN propagates (another VPC's CIDR, the cloud-service route for the instance's range).
system_route() { # system_route ID CIDR
  printf '{"id": "%s", "destinationCidrBlock": "%s", "type": "System", "nextHopType": "local"}' "$1" "$2"
}
cen_route() { # cen_route ID CIDR REGION
  printf '{"id": "%s", "destinationCidrBlock": "%s", "type": "CEN", "nextHopType": "CenBasic", "nextHopId": "%s", "nextHopRegionId": "%s"}' "$1" "$2" "$CEN_ID" "$3"
}
RTE_FC_SYSTEM="$(system_route rte-8vblabfc0001 172.16.1.0/24), $(system_route rte-8vblabfc0002 100.64.0.0/10)"
RTE_FC_API_VPC=$(cen_route rte-8vblabfc0003 "$VPC_API_CIDR" "$REGION_API")
RTE_FC_SERVICE=$(cen_route rte-8vblabfc0004 "$GW_IN_RANGE" "$REGION_API")
RTE_API_SYSTEM="$(system_route rte-uf6labapi0001 192.168.1.0/24), $(system_route rte-uf6labapi0002 100.64.0.0/10)"
RTE_API_FC_VPC=$(cen_route rte-uf6labapi0003 "$VPC_FC_CIDR" "$REGION_FC")
ATTACH_FC="{\"instanceId\": \"$VPC_FC_ID\", \"region\": \"$REGION_FC\"}"
ATTACH_API="{\"instanceId\": \"$VPC_API_ID\", \"region\": \"$REGION_API\"}"

# write_world FILE: the world JSON for `apigw-standin control-plane --world` (format:
# crates/standin/CONTROL-PLANE.md): both scenarios as built below, healthy.
write_world() {
  local role="acs:ram::$ACCOUNT:role/apigw-probe-role"
  local api_common="\"groupId\": \"$GROUP\", \"method\": \"GET\", \"protocols\": [\"HTTP\", \"HTTPS\"], \"backend\": \"$ECS_IP:8080\", \"backendPath\": \"/web/cloudapi\", \"backendTimeoutMs\": 3000"
  cat >"$1" <<EOF
{
  "accountId": $ACCOUNT,
  "accessKeys": {
    "$STS_AK": {"secret": "$STS_SECRET", "securityToken": "$STS_TOKEN", "principal": "apigw-probe-role/apigw-vpc-probe"}
  },
  "groups": {
    "$GROUP": {"name": "lab-vpc-probe", "region": "$REGION_API", "instanceId": "$INSTANCE",
               "vpcDomainEnabled": true, "vpcDomainAddresses": ["$GW_IN_IP"]}
  },
  "instances": {
    "$INSTANCE": {"name": "lab-dedicated", "region": "$REGION_API", "zoneId": "$REGION_API-b",
                  "instanceType": "VPC_DEDICATED", "vpcIntranetEnable": true, "userVpcId": "$VPC_API_ID",
                  "userVswitchId": "$VSW_SH_ID", "vpcOwnerId": $ACCOUNT, "vpcEgressAddress": "$GW_EG_RANGE"}
  },
  "apis": {
    "$API_CLOUDAPI": {$api_common, "name": "cloudapi", "path": "/web/cloudapi", "deployed": ["RELEASE", "TEST"]},
    "$API_PREVIEW": {$api_common, "name": "preview", "path": "/web/preview", "deployed": ["TEST"]},
    "$API_SIGNED": {$api_common, "name": "signed", "path": "/web/signed", "authType": "APP", "deployed": ["RELEASE"]}
  },
  "apps": {
    "$APP_ID": {"name": "lab-probe", "appKey": "$APP_KEY", "appSecret": "$APP_SECRET",
                "authorizations": [{"apiId": "$API_SIGNED", "stage": "RELEASE"}]}
  },
  "functions": {
    "$(fn_name fc-sh)": {"region": "$REGION_API", "role": "$role", "internetAccess": false,
                           "vpcConfig": {"vpcId": "$VPC_API_ID", "vSwitchIds": ["$VSW_SH_ID"], "securityGroupId": "sg-uf6labfcsh00001"}},
    "$(fn_name fc-zjk)": {"region": "$REGION_FC", "role": "$role", "internetAccess": false,
                            "vpcConfig": {"vpcId": "$VPC_FC_ID", "vSwitchIds": ["$VSW_ZJK_ID"], "securityGroupId": "sg-8vblabfczjk0001"}}
  },
  "vpcs": {
    "$VPC_API_ID": {"region": "$REGION_API", "name": "vpc-api-access", "cidrBlock": "$VPC_API_CIDR"},
    "$VPC_FC_ID": {"region": "$REGION_FC", "name": "vpc-fc-access", "cidrBlock": "$VPC_FC_CIDR"},
    "$VPC_BE_ID": {"region": "$REGION_API", "name": "vpc-backend-1", "cidrBlock": "$VPC_BE_CIDR"},
    "$VPC_OTHER_ID": {"region": "$REGION_API", "name": "vpc-other-consumer", "cidrBlock": "$OTHER_VPC_CIDR"}
  },
  "vswitches": {
    "$VSW_SH_ID": {"vpcId": "$VPC_API_ID", "region": "$REGION_API", "zoneId": "$REGION_API-b", "name": "vsw-fc-sh",
                   "cidrBlock": "192.168.1.0/24", "routeTableId": "$RT_API_ID"},
    "$VSW_ZJK_ID": {"vpcId": "$VPC_FC_ID", "region": "$REGION_FC", "zoneId": "$REGION_FC-a", "name": "vsw-fc-zjk",
                    "cidrBlock": "172.16.1.0/24", "routeTableId": "$RT_FC_ID"},
    "$VSW_ECS_ID": {"vpcId": "$VPC_BE_ID", "region": "$REGION_API", "zoneId": "$REGION_API-b", "name": "vsw-ecs",
                    "cidrBlock": "10.1.1.0/24", "routeTableId": "$RT_BE_ID"},
    "$VSW_OTHER_ID": {"vpcId": "$VPC_OTHER_ID", "region": "$REGION_API", "zoneId": "$REGION_API-b", "name": "vsw-other",
                      "cidrBlock": "10.99.1.0/24", "routeTableId": "$RT_OTHER_ID"}
  },
  "routeTables": {
    "$RT_API_ID": {"vpcId": "$VPC_API_ID", "region": "$REGION_API", "entries": [$RTE_API_SYSTEM, $RTE_API_FC_VPC]},
    "$RT_FC_ID": {"vpcId": "$VPC_FC_ID", "region": "$REGION_FC", "entries": [$RTE_FC_SYSTEM, $RTE_FC_API_VPC, $RTE_FC_SERVICE]},
    "$RT_BE_ID": {"vpcId": "$VPC_BE_ID", "region": "$REGION_API", "entries": [$(system_route rte-uf6labbe0001 10.1.1.0/24)]},
    "$RT_OTHER_ID": {"vpcId": "$VPC_OTHER_ID", "region": "$REGION_API", "entries": [$(system_route rte-uf6labot0001 10.99.1.0/24)]}
  },
  "cens": {
    "$CEN_ID": {"name": "lab-cen", "attachments": [$ATTACH_FC, $ATTACH_API],
                "routeServices": [{"host": "$GW_IN_RANGE", "hostRegionId": "$REGION_API", "hostVpcId": "$VPC_API_ID",
                                   "accessRegionId": "$REGION_FC", "description": "the instance's inbound range"}]}
  }
}
EOF
  jq -e . "$1" >/dev/null || die "the generated world $1 is not JSON"
}

fn_name() { # the function's name in FC (and in the world) for a function namespace
  case $1 in
  fc-sh) echo apigw-vpc-probe-sh ;;
  fc-zjk) echo apigw-vpc-probe-zjk ;;
  *) die "no function in $1" ;;
  esac
}

# world_patch JSON: an RFC 7386 merge patch to the control plane's world (admin endpoint); the
# gateway follows at once (the same process), and the answer is the new world.
world_patch() { world_admin PATCH "$1"; }
# world_reset: the healthy world again (the file the control plane started with).
world_reset() { world_admin PUT "@$WORK/world.json"; }
world_admin() {
  local status
  status=$(in_ns apigw curl -sS -o "$WORK/world-admin.out" -w '%{http_code}' --max-time 5 -X "$1" \
    -H "x-standin-admin-token: $ADMIN_TOKEN" -H 'content-type: application/json' \
    --data-binary "$2" "$CP_URL/_standin/world") || die "the control plane's admin endpoint did not answer"
  [ "$status" = 200 ] || die "the control plane refused a world change ($status): $(cat "$WORK/world-admin.out")"
}
# cp_admin METHOD PATH: another admin request (the request log).
cp_admin() {
  in_ns apigw curl -sS --max-time 5 -X "$1" -H "x-standin-admin-token: $ADMIN_TOKEN" "$CP_URL$2"
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
  route vpc-api "$CP_IP/32" via "$DNS_API"

  # The dedicated instance: inbound side in vpc-api-access, egress side in vpc-backend-1.
  link apigw in0 "$GW_IN_IP/26" vpc-api to-apigw "$GW_IN_RTR/26"
  link apigw eg0 "$GW_EG_IP/26" vpc-be to-apigw "$GW_EG_RTR/26"
  route apigw default via "$GW_IN_RTR" dev in0
  route apigw "$VPC_BE_CIDR" via "$GW_EG_RTR" dev eg0 src "$GW_EG_IP"
  # Inbound access: only the authorized VPC (and what CEN routes into it) may connect; the
  # group's VPC whitelist, when a case sets one, is the chain `whitelist`.
  nft_in apigw <<EOF
table inet apigw_inbound {
  set authorized {
    type ipv4_addr; flags interval
    elements = { $VPC_API_CIDR, $VPC_FC_CIDR }
  }
  counter dropped {}
  counter whitelist_dropped {}
  chain whitelist {
  }
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "in0" tcp dport { 80, 443 } ip saddr != @authorized counter name dropped drop
    iifname "in0" tcp dport { 80, 443 } jump whitelist
  }
}
EOF
  # The control plane's OpenAPI address, on a link to the service network (dns); what it
  # sends leaves by that link (a source route), whatever the VPCs' and CEN's routes are.
  link apigw svc0 "$APIGW_SVC/30" dns to-apigw "$DNS_SVC/30"
  in_ns apigw ip addr add "$CP_IP/32" dev svc0
  in_ns apigw ip rule add from "$CP_IP" lookup 80
  in_ns apigw ip route add default via "$DNS_SVC" dev svc0 table 80
  route dns "$CP_IP/32" via "$APIGW_SVC"
  # The service network forwards to and from the control plane only (never between the VPCs);
  # a case cuts the control plane off in the chain `cutoff`.
  router dns
  nft_in dns <<EOF
table inet service {
  counter dropped {}
  chain cutoff {
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ip daddr $CP_IP jump cutoff
    ip daddr $CP_IP accept
    ip saddr $CP_IP accept
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
  route vpc-fc "$CP_IP/32" via "$DNS_FC"
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
  # The gateway and the control plane: one process, one world (the APIs, stages and apps the
  # gateway serves are the world's; a world change reaches both at once).
  write_world "$WORK/world.json"
  ADMIN_TOKEN=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  start control-plane apigw "$STANDIN" control-plane --listen "$CP_IP:80" --world "$WORK/world.json" \
    --gateway "$GW_IN_IP:80" --admin-token "$ADMIN_TOKEN"
  start backend ecs "$STANDIN" backend --listen "$ECS_IP:8080"
  # They print {"standin": ..., "listen": ...} once bound. (A TCP check from inside ecs would
  # be rejected by its own security group.)
  wait_listening control-plane
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
# What FC sends with an invocation besides the event: its timeout (x-fc-function-timeout, s),
# and the role's STS credentials (1: the x-fc-access-key-* headers; 0: none). Cases change them
# for one invocation and put them back.
FC_TIMEOUT_S=30
FC_CREDENTIALS=1
# invoke ROLE REGION OUT EVENT [VAR=VALUE...]: start `serve` in the function's namespace with a
# clean environment (FC's variables and the function's APIGW_*, the OpenAPI endpoints at the
# control plane), POST /invoke the event from inside the namespace as FC's agent does (its
# identity and the role's credentials in the x-fc-* headers), stop the instance. Writes OUT
# (report), OUT.status, OUT.headers, OUT.ms (how long the invocation took).
invoke() {
  local role=$1 region=$2 out=$3 event=$4
  shift 4
  INVOCATIONS=$((INVOCATIONS + 1))
  local name="fn-$role-$INVOCATIONS" fn
  fn=$(fn_name "$role")
  start "$name" "$role" env -i PATH=/usr/local/bin:/usr/bin:/bin \
    FC_CUSTOM_LISTEN_PORT=9000 FC_REGION="$region" FC_FUNCTION_NAME="$fn" \
    FC_FUNCTION_MEMORY_SIZE=128 FC_FUNCTION_HANDLER=index.handler RUST_LOG=info \
    APIGW_TARGETS="$TARGETS_JSON" "${FN_TIMEOUTS[@]}" "${OPENAPI_ENV[@]}" "$@" "$BIN" serve
  wait_tcp "$role" 127.0.0.1 9000 "$name"
  # The credentials go in a header file, not on curl's command line.
  local creds=/dev/null
  if [ "$FC_CREDENTIALS" = 1 ]; then
    creds="$WORK/fc-credentials.headers"
    printf 'x-fc-access-key-id: %s\nx-fc-access-key-secret: %s\nx-fc-security-token: %s\n' \
      "$STS_AK" "$STS_SECRET" "$STS_TOKEN" >"$creds"
  fi
  local t0 t1
  t0=$(date +%s%N)
  in_ns "$role" curl -sS -o "$out" -D "$out.headers" -w '%{http_code}' --max-time 30 \
    -X POST -H "x-fc-request-id: lab-$RUN-$INVOCATIONS" -H "x-fc-region: $region" \
    -H "x-fc-account-id: $ACCOUNT" -H "x-fc-function-name: $fn" -H 'x-fc-qualifier: LATEST' \
    -H "x-fc-function-timeout: $FC_TIMEOUT_S" -H @"$creds" \
    -H 'x-fc-control-path: /invoke' -H 'content-type: application/octet-stream' \
    --data-binary "$event" http://127.0.0.1:9000/invoke >"$out.status"
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000)) >"$out.ms"
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
  control plane: $CP_URL (OpenAPI of CloudAPI, FC, VPC, CEN; in apigw with the gateway, one
      world: $WORK/world.json), reached from both VPCs over the service network (dns)
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
    invoke "$1" "$2" "$WORK/$1.json" '{}' APIGW_CONFIG_CHECK=always
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
  CASE_NOTES+=("  $(jq -r '.targets[0].config_check // {} | "-> \(.verdict // "no config_check") (\(.duration_ms // 0 | round) ms)\(if .expected or .actual then ": expected \(.expected), actual \(.actual)" else "" end)"' "$out" 2>/dev/null)")
  CASE_NOTES+=("  invocation $(cat "$out.ms") ms")
}

# expect_verdict OUT VERDICT [FIELD SUBSTRING]...: the target's config_check names VERDICT and
# each FIELD of it (setting, expected, actual, hint) contains SUBSTRING. A verdict that names
# the cause is also the target's error.hint; any other leaves the probe's own hint there.
expect_verdict() {
  local out=$1 verdict=$2
  shift 2
  check "$out" "config_check.verdict is $verdict" '.targets[0].config_check.verdict == $v' --arg v "$verdict"
  while [ $# -ge 2 ]; do
    check "$out" "config_check.$1 contains \"$2\"" '.targets[0].config_check[$f] // "" | contains($s)' --arg f "$1" --arg s "$2"
    shift 2
  done
  case $verdict in
  consistent | permission.denied | control_plane.* | credentials.*)
    check "$out" "error.hint is the probe's own (the verdict names no cause)" '.targets[0].error.hint | startswith("Verified by") | not'
    ;;
  *)
    check "$out" "error.hint is the verified cause" '.targets[0].error.hint | startswith("Verified by the configuration cross-check (" + $v + ")")' --arg v "$verdict"
    # The answers it is built on came from the lab's control plane, through the lab's network.
    check "$out" "evidence from the control plane at $CP_URL" '[.targets[0].config_check.evidence[] | select(.endpoint == $e)] | length > 0' --arg e "$CP_URL"
    ;;
  esac
}

# expect_step OUT STEP STATUS: one check of the procedure (S4.inbound_vpc ...) has STATUS.
expect_step() {
  check "$1" "check $2 is $3" '[.targets[0].config_check.checks[] | select(.id == $id)][0].status == $st' --arg id "$2" --arg st "$3"
}

nothing() { :; }
# One probe sample, for the cases added with the cross-check whose packets are dropped or
# refused by ICMP (a router's ICMP answer can reach the socket while connect() still holds it:
# then Linux waits for the SYN's retransmission, 1 s later).
ONE_SAMPLE="{\"url\":\"http://$DOMAIN/web/cloudapi\",\"samples\":1}"

# --- 1: both scenarios healthy; the cross-check (APIGW_CONFIG_CHECK=always) finds the world
# consistent with them: the world describes the network the packets took.
case_healthy() {
  local before after
  before=$(counter ecs ecs_security_group admitted)
  cp_admin DELETE /_standin/requests >/dev/null
  for r in "fc-sh $REGION_API" "fc-zjk $REGION_FC"; do
    # shellcheck disable=SC2086 # split "<namespace> <region>" into $1 and $2
    set -- $r
    local out="$WORK/healthy-$1.json"
    CASE_OUTS+=("$out")
    invoke "$1" "$2" "$out" '{}' APIGW_CONFIG_CHECK=always
    expect_healthy "$out"
    check "$out" "config_check: consistent, nothing unknown" '.targets[0].config_check | .verdict == "consistent" and (.unknown | length) == 0'
    local step
    for step in S0.credentials S1.function_vpc S2.vswitch S3.group S3.host S4.instance S4.inbound_vpc S5.vpc_whitelist; do
      expect_step "$out" "$step" pass
    done
    CASE_NOTES+=("$1: ok, $(jq -r '.targets[0] | "\(.dns.addresses[0]) [\(.dns.scope)] via \(.dns.servers | join(",")), total ms \([.samples[].phases_ms.total] | map(tostring) | join(" ")); config_check \(.config_check.verdict) (\([.config_check.checks[] | select(.status == "pass")] | length) checks pass)"' "$out")")
  done
  # Across regions the CEN checks ran and agree with the routes the packets took.
  for step in S6.function_vpc_cen S6.gateway_vpc_cen S6.route_service S6.route_table; do
    expect_step "$WORK/healthy-fc-zjk.json" "$step" pass
    expect_step "$WORK/healthy-fc-sh.json" "$step" skipped
  done
  # The calls reached the control plane signed with the role's STS key from FC's headers.
  local log
  log=$(cp_admin GET /_standin/requests)
  jq -e --arg ak "$STS_AK" 'length > 0 and all(.[]; .accessKeyId == $ak and .status == 200)' <<<"$log" >/dev/null ||
    CASE_ERRORS+=("the control plane's request log: not every call was signed with $STS_AK and answered 200: $(jq -c '[.[] | {action, accessKeyId, status}]' <<<"$log")")
  after=$(counter ecs ecs_security_group admitted)
  [ "$after" -gt "$before" ] || CASE_ERRORS+=("the backend admitted no packet from the egress range $GW_EG_RANGE")
  expect_counter ecs ecs_security_group admitted "the gateway reached the backend from its egress range"
  CASE_NOTES+=("control plane: $(jq -r 'length' <<<"$log") OpenAPI calls, all signed with the role's STS key; ecs security group admitted $((after - before)) packets from $GW_EG_RANGE; cen: $CEN_SHAPING")
}

# --- 2: the VPC second-level domain is not enabled: the VPC's DNS does not know the name
vpc_domain_off() {
  world_patch "{\"groups\": {\"$GROUP\": {\"vpcDomainEnabled\": false}}}"
  restart_dns without-domain
}
vpc_domain_on() {
  restart_dns with-domain
  world_reset
}
case_nxdomain() {
  local r
  for r in "fc-sh $REGION_API" "fc-zjk $REGION_FC"; do
    # shellcheck disable=SC2086 # split "<namespace> <region>" into $1 and $2
    set -- $r
    one_failure "$1" "$2" "nxdomain-${1#fc-}" '{}' dns.nxdomain "ModifyIntranetDomainPolicy(GroupId=$GROUP, VpcIntranetEnable=true)"
    expect_verdict "$WORK/nxdomain-${1#fc-}.json" group.vpc_domain_disabled \
      expected "enabled: $DOMAIN" actual "not enabled (VpcDomain empty)"
  done
}

# --- 3: the function has no VPC access: no ENI in the VPC, only FC's own network (the DNS and
# the control plane stay reachable, as the public OpenAPI endpoints are from there)
no_vpc_access() {
  world_patch "{\"functions\": {\"$(fn_name fc-sh)\": {\"vpcConfig\": null}}}"
  ip -n "$(ns fc-sh)" route del default
  local ip
  for ip in "$DNS1" "$DNS2" "$CP_IP"; do route fc-sh "$ip/32" via "$VSW_SH_GW"; done
}
vpc_access() {
  local ip
  for ip in "$DNS1" "$DNS2" "$CP_IP"; do ip -n "$(ns fc-sh)" route del "$ip/32"; done
  route fc-sh default via "$VSW_SH_GW"
  world_reset
}
case_no_vpc_access() {
  one_failure fc-sh "$REGION_API" novpc-sh '{}' tcp.unreachable "UpdateFunction($(fn_name fc-sh), vpcConfig"
  expect_verdict "$WORK/novpc-sh.json" function.not_in_vpc actual "not in a VPC" setting "$(fn_name fc-sh)"
}

# --- 4: the function's VPC is not the instance's authorized inbound VPC: SYNs dropped
# set_elements NS TABLE SET [ELEMENTS]: replace the contents of an nftables set.
set_elements() {
  in_ns "$1" nft flush set inet "$2" "$3"
  [ -z "${4:-}" ] || in_ns "$1" nft add element inet "$2" "$3" "{ $4 }"
}
bind_other_vpc() {
  world_patch "{\"instances\": {\"$INSTANCE\": {\"userVpcId\": \"$VPC_OTHER_ID\", \"userVswitchId\": \"$VSW_OTHER_ID\"}}}"
  set_elements apigw apigw_inbound authorized "$OTHER_VPC_CIDR"
}
bind_vpc_api() {
  set_elements apigw apigw_inbound authorized "$VPC_API_CIDR, $VPC_FC_CIDR"
  world_reset
}
case_not_authorized() {
  one_failure fc-sh "$REGION_API" unauth-sh '{}' tcp.timeout "ModifyInstanceVpcAttributeForConsole(InstanceId=$INSTANCE, VpcId=$VPC_API_ID"
  expect_verdict "$WORK/unauth-sh.json" instance.inbound_vpc_mismatch expected "$VPC_API_ID" actual "$VPC_OTHER_ID"
  # Across regions the instance's bound VPC must be the one CEN connects: it is not.
  one_failure fc-zjk "$REGION_FC" unauth-zjk '{}' tcp.timeout "AttachCenChildInstance"
  expect_verdict "$WORK/unauth-zjk.json" cen.gateway_vpc_not_attached \
    expected "$VPC_OTHER_ID (the instance's bound VPC, $REGION_API) attached" actual "attached in $REGION_API: $VPC_API_ID" \
    hint "bind $VPC_API_ID"
  expect_counter apigw apigw_inbound dropped "the gateway's inbound side dropped the SYNs"
  # Same network failure, different hints: the function can tell the regions apart.
  local same cross
  same=$(jq -r '.targets[0].error.hint' "$WORK/unauth-sh.json")
  cross=$(jq -r '.targets[0].error.hint' "$WORK/unauth-zjk.json")
  [ "$same" != "$cross" ] || CASE_ERRORS+=("same-region and cross-region timeout hints are identical")
  case $same in *"bandwidth package"*) CASE_ERRORS+=("the same-region hint names the bandwidth package") ;; esac
}

# --- 4b: the instance has no inbound VPC bound at all: every SYN dropped
unbind_vpc() {
  world_patch "{\"instances\": {\"$INSTANCE\": {\"vpcIntranetEnable\": false, \"userVpcId\": \"\", \"userVswitchId\": \"\", \"vpcOwnerId\": 0}}}"
  set_elements apigw apigw_inbound authorized ""
}
case_not_bound() {
  one_failure fc-sh "$REGION_API" unbound-sh "$ONE_SAMPLE" tcp.timeout "Bind to the user's VPC"
  expect_verdict "$WORK/unbound-sh.json" instance.inbound_vpc_not_bound expected "$VPC_API_ID" actual "none bound"
  one_failure fc-zjk "$REGION_FC" unbound-zjk "$ONE_SAMPLE" tcp.timeout "Bind to the user's VPC"
  expect_verdict "$WORK/unbound-zjk.json" instance.inbound_vpc_not_bound expected "a VPC of $REGION_API, connected to the function's VPC by CEN" actual "none bound"
  expect_counter apigw apigw_inbound dropped "the gateway's inbound side dropped the SYNs"
}

# --- 4c: the group's VPC whitelist names another VPC only [inferred: how the gateway refuses a
# VPC outside it is not documented; the lab drops the SYNs at the instance's inbound side]
whitelist_other() {
  world_patch "{\"groups\": {\"$GROUP\": {\"vpcWhitelist\": [\"$VPC_OTHER_ID\"]}}}"
  in_ns apigw nft add rule inet apigw_inbound whitelist ip saddr != "$OTHER_VPC_CIDR" counter name whitelist_dropped drop
}
no_whitelist() {
  in_ns apigw nft flush chain inet apigw_inbound whitelist
  world_reset
}
case_whitelist() {
  one_failure fc-sh "$REGION_API" whitelist-sh "$ONE_SAMPLE" tcp.timeout "ModifyApiGroupVpcWhitelist(GroupId=$GROUP"
  expect_verdict "$WORK/whitelist-sh.json" group.vpc_whitelist_blocks expected "$VPC_API_ID" actual "$VPC_OTHER_ID"
  one_failure fc-zjk "$REGION_FC" whitelist-zjk "$ONE_SAMPLE" tcp.timeout "ModifyApiGroupVpcWhitelist(GroupId=$GROUP"
  expect_verdict "$WORK/whitelist-zjk.json" group.vpc_whitelist_blocks expected "$VPC_FC_ID" actual "$VPC_OTHER_ID"
  expect_counter apigw apigw_inbound whitelist_dropped "the whitelist dropped the SYNs"
}

# --- 4d: as 4, and the role may not call DescribeInstances: the check cannot see the binding
bind_other_vpc_denied() {
  bind_other_vpc
  world_patch "{\"accessKeys\": {\"$STS_AK\": {\"deny\": [\"apigateway:DescribeInstances\"]}}}"
}
case_denied() {
  local out="$WORK/denied-sh.json"
  one_failure fc-sh "$REGION_API" denied-sh "$ONE_SAMPLE" tcp.timeout "authorized inbound VPC (入访VPC)"
  expect_verdict "$out" permission.denied expected "apigateway:DescribeInstances" hint "deploy/ram-policy.json"
  check "$out" "unknown: S4.instance denied, with the RAM action to grant" \
    '.targets[0].config_check.unknown | any(.step == "S4.instance" and .reason == "permission_denied" and .action == "apigateway:DescribeInstances" and .code == "Forbidden.RAM")'
  expect_step "$out" S4.instance unknown
  expect_step "$out" S5.vpc_whitelist pass
}

# --- 5: CEN has no route for the instance's range (ResolveAndRouteServiceInCen not done)
no_cen_route() {
  world_patch "{\"cens\": {\"$CEN_ID\": {\"routeServices\": []}}, \"routeTables\": {\"$RT_FC_ID\": {\"entries\": [$RTE_FC_SYSTEM, $RTE_FC_API_VPC]}}}"
  cen_service_route del
}
cen_route() {
  cen_service_route add
  world_reset
}
case_no_cen_route() {
  one_failure fc-zjk "$REGION_FC" nocenroute-zjk '{}' tcp.unreachable "ResolveAndRouteServiceInCen(CenId=$CEN_ID"
  expect_verdict "$WORK/nocenroute-zjk.json" cen.route_service_missing \
    expected "an Active entry Host=$GW_IN_IP/32 HostRegionId=$REGION_API HostVpcId=$VPC_API_ID AccessRegionIds=$REGION_FC" actual none
}

# --- 5b: the route is there but CEN drops cross-region traffic (no bandwidth package): no
# setting the cross-check reads is wrong (it does not read bandwidth packages) -> consistent,
# and its hint names the bandwidth package
cen_drops() { in_ns cen nft add rule inet cen forward iifname att-fc oifname att-api counter name dropped drop; }
cen_forwards() { in_ns cen nft flush chain inet cen forward; }
case_cen_drops() {
  one_failure fc-zjk "$REGION_FC" cendrop-zjk '{}' tcp.timeout "bandwidth package between the two regions"
  expect_verdict "$WORK/cendrop-zjk.json" consistent hint "CEN bandwidth package between the two regions"
  expect_step "$WORK/cendrop-zjk.json" S6.route_table pass
  expect_counter cen cen dropped "CEN dropped the SYNs"
}

# --- 5c: the route service is there, but the function VPC's route table did not learn it
no_learned_route() {
  world_patch "{\"routeTables\": {\"$RT_FC_ID\": {\"entries\": [$RTE_FC_SYSTEM, $RTE_FC_API_VPC]}}}"
  ip -n "$(ns vpc-fc)" route del "$GW_IN_RANGE"
}
learned_route() {
  route vpc-fc "$GW_IN_RANGE" via "$CEN_ATT_FC"
  world_reset
}
case_no_learned_route() {
  one_failure fc-zjk "$REGION_FC" nolearned-zjk "$ONE_SAMPLE" tcp.unreachable "Route Info"
  expect_verdict "$WORK/nolearned-zjk.json" cen.route_not_in_vpc_table \
    setting "VPC route table $RT_FC_ID" actual "only 100.64.0.0/10 (System)"
}

# --- 5d / 5e: one of the two VPCs is not attached to CEN: neither VPC learns the other's routes
# cen_attachment fc|api add|del: what attaching (detaching) that VPC does to the routes.
cen_attachment() {
  local op=$1 vpc=$2
  if [ "$vpc" = fc ]; then
    ip -n "$(ns cen)" route "$op" "$VPC_FC_CIDR" via "$VPC_FC_ATT"
  else
    ip -n "$(ns cen)" route "$op" "$VPC_API_CIDR" via "$VPC_API_ATT"
    ip -n "$(ns cen)" route "$op" "$GW_IN_RANGE" via "$VPC_API_ATT"
  fi
  ip -n "$(ns vpc-api)" route "$op" "$VPC_FC_CIDR" via "$CEN_ATT_API"
  ip -n "$(ns vpc-fc)" route "$op" "$VPC_API_CIDR" via "$CEN_ATT_FC"
  ip -n "$(ns vpc-fc)" route "$op" "$GW_IN_RANGE" via "$CEN_ATT_FC"
}
# The world: the attachment gone, and the routes CEN propagated with it.
detach_world() { # detach_world REMAINING-ATTACHMENT
  world_patch "{\"cens\": {\"$CEN_ID\": {\"attachments\": [$1]}}, \"routeTables\": {\"$RT_FC_ID\": {\"entries\": [$RTE_FC_SYSTEM]}, \"$RT_API_ID\": {\"entries\": [$RTE_API_SYSTEM]}}}"
}
detach_fc() {
  detach_world "$ATTACH_API"
  cen_attachment del fc
}
attach_fc() {
  cen_attachment add fc
  world_reset
}
detach_api() {
  detach_world "$ATTACH_FC"
  cen_attachment del api
}
attach_api() {
  cen_attachment add api
  world_reset
}
case_fc_detached() {
  one_failure fc-zjk "$REGION_FC" fcdetached-zjk "$ONE_SAMPLE" tcp.unreachable "AttachCenChildInstance"
  expect_verdict "$WORK/fcdetached-zjk.json" cen.function_vpc_not_attached \
    expected "$VPC_FC_ID attached to a CEN instance together with $VPC_API_ID" actual "$VPC_FC_ID is attached to no CEN instance"
}
case_api_detached() {
  one_failure fc-zjk "$REGION_FC" apidetached-zjk "$ONE_SAMPLE" tcp.unreachable "AttachCenChildInstance"
  expect_verdict "$WORK/apidetached-zjk.json" cen.gateway_vpc_not_attached \
    expected "$VPC_API_ID (the instance's bound VPC, $REGION_API) attached" actual "no VPC of $REGION_API attached"
}

# --- 6: customDNS without 100.100.2.136/138: the named server does not answer. The
# cross-check reads no DNS setting of the function (S1 reads vpcConfig): consistent, and its
# hint names customDNS
custom_dns() { set_resolv fc-sh "$CUSTOM_DNS"; }
vpc_dns() { set_resolv fc-sh "$DNS1" "$DNS2"; }
case_custom_dns() {
  one_failure fc-sh "$REGION_API" customdns-sh '{}' dns.timeout "customDNS, if set, must keep those servers"
  check "$WORK/customdns-sh.json" "dns servers: only $CUSTOM_DNS" '.targets[0].dns.servers == [$s]' --arg s "$CUSTOM_DNS:53"
  expect_verdict "$WORK/customdns-sh.json" consistent hint "customDNS, if set, must keep 100.100.2.136 and 100.100.2.138"
}

# --- 7: the backend's security group does not admit the instance's egress range. The world
# has no ECS security groups and the cross-check has no backend step (control-plane.md S7e is
# not implemented): for gateway.D504CO it checks the group and the host -> consistent, and the
# probe's own hint (the egress range) stays
sg_without_egress() { set_elements ecs ecs_security_group allowed "$VPC_API_CIDR"; }
sg_with_egress() { set_elements ecs ecs_security_group allowed "$GW_EG_RANGE"; }
case_sg() {
  one_failure fc-sh "$REGION_API" sg-sh '{}' gateway.D504CO "egress range"
  one_failure fc-zjk "$REGION_FC" sg-zjk '{}' gateway.D504CO "egress range"
  expect_verdict "$WORK/sg-sh.json" consistent
  expect_verdict "$WORK/sg-zjk.json" consistent
  expect_counter ecs ecs_security_group rejected "the security group rejected the gateway's connection"
}

# --- 8: the API is not published to the stage called (RELEASE); published to TEST it works
case_stage() {
  local url="http://$DOMAIN/web/preview"
  one_failure fc-sh "$REGION_API" stage-sh "{\"url\":\"$url\"}" gateway.I404NF "send X-Ca-Stage: TEST"
  expect_verdict "$WORK/stage-sh.json" api.stage_mismatch expected TEST actual "RELEASE (no X-Ca-Stage"
  local out="$WORK/stage-test-sh.json"
  CASE_OUTS+=("$out")
  invoke fc-sh "$REGION_API" "$out" "{\"url\":\"$url\",\"stage\":\"TEST\"}"
  check "$out" "with X-Ca-Stage: TEST the same API answers 200" '.ok == true and .targets[0].samples[0].status == 200'
  CASE_NOTES+=("fc-sh: $url with stage TEST: ok")
}

# --- 8b: the API is published in no stage (AbolishApi): the gateway, built from the same
# world, no longer serves it
abolish_cloudapi() { world_patch "{\"apis\": {\"$API_CLOUDAPI\": {\"deployed\": []}}}"; }
case_abolished() {
  one_failure fc-sh "$REGION_API" abolished-sh '{}' gateway.I404NF "DeployApi(GroupId=$GROUP"
  expect_verdict "$WORK/abolished-sh.json" api.not_published_to_stage \
    expected "GET /web/cloudapi published in RELEASE" actual "published in no stage"
}

# --- 8c: the API allows HTTPS only; the target calls http://
https_only() { world_patch "{\"apis\": {\"$API_CLOUDAPI\": {\"protocols\": [\"HTTPS\"]}}}"; }
case_protocol() {
  one_failure fc-sh "$REGION_API" protocol-sh '{}' gateway.I403PT "RequestConfig.RequestProtocol"
  expect_verdict "$WORK/protocol-sh.json" api.protocol_not_allowed expected HTTP actual HTTPS
}

# --- 9: a wrong AppSecret: the gateway's signature check fails. The app exists and is
# authorized (the cross-check cannot read an AppSecret) -> consistent, its hint names it
case_wrong_secret() {
  local url="http://$DOMAIN/web/signed"
  one_failure fc-sh "$REGION_API" secret-sh "{\"url\":\"$url\"}" gateway.A403IS "set APIGW_APP_SECRET to the app's AppSecret" \
    APIGW_APP_KEY="$APP_KEY" APIGW_APP_SECRET="$WRONG_SECRET"
  one_failure fc-zjk "$REGION_FC" secret-zjk "{\"url\":\"$url\"}" gateway.A403IS "set APIGW_APP_SECRET to the app's AppSecret" \
    APIGW_APP_KEY="$APP_KEY" APIGW_APP_SECRET="$WRONG_SECRET"
  check "$WORK/secret-sh.json" "the message says the strings to sign are identical (so the secret is wrong)" '.targets[0].error.message | contains("the strings to sign are identical")'
  check "$WORK/secret-sh.json" "the wrong secret appears nowhere in the report" '(tostring | contains($s)) | not' --arg s "$WRONG_SECRET"
  check "$WORK/secret-sh.json" "the event's target is signed: its host is the configured target's" '.targets[0].auth == "app"'
  expect_verdict "$WORK/secret-sh.json" consistent hint "the AppSecret (APIGW_APP_SECRET) is not the app's"
  expect_verdict "$WORK/secret-zjk.json" consistent hint "the AppSecret (APIGW_APP_SECRET) is not the app's"
  expect_step "$WORK/secret-sh.json" S7c.authorization pass
  local out="$WORK/secret-right-sh.json"
  CASE_OUTS+=("$out")
  invoke fc-sh "$REGION_API" "$out" "{\"url\":\"$url\"}" APIGW_APP_KEY="$APP_KEY" APIGW_APP_SECRET="$APP_SECRET"
  check "$out" "with the right AppSecret the signed API answers 200" '.ok == true and .targets[0].samples[0].status == 200'
  CASE_NOTES+=("fc-sh: $url with the right AppSecret: ok")
}

# --- 9b: the app is not authorized for the API (its authorization removed)
revoke_app() { world_patch "{\"apps\": {\"$APP_ID\": {\"authorizations\": []}}}"; }
case_not_authorized_app() {
  one_failure fc-sh "$REGION_API" revoked-sh "{\"url\":\"http://$DOMAIN/web/signed\"}" gateway.A403PR "SetAppsAuthorities(GroupId=$GROUP" \
    APIGW_APP_KEY="$APP_KEY" APIGW_APP_SECRET="$APP_SECRET"
  expect_verdict "$WORK/revoked-sh.json" app.not_authorized setting "AppId $APP_ID" expected "authorized in RELEASE" actual "not authorized"
}

# --- 9c: an AppKey no app has
case_unknown_app() {
  one_failure fc-sh "$REGION_API" unknownapp-sh "{\"url\":\"http://$DOMAIN/web/signed\"}" gateway.A400IK "Set APIGW_APP_KEY" \
    APIGW_APP_KEY="$OTHER_APP_KEY" APIGW_APP_SECRET="$APP_SECRET"
  expect_verdict "$WORK/unknownapp-sh.json" app.unknown actual "$OTHER_APP_KEY: no such app"
}

# --- 10: the role's credentials: expired (the STS token FC passed is refused), and none
expire_token() { world_patch "{\"accessKeys\": {\"$STS_AK\": {\"expiration\": \"2020-01-01T00:00:00Z\"}}}"; }
case_credentials() {
  local url="{\"url\":\"http://$DOMAIN/web/preview\"}"
  one_failure fc-sh "$REGION_API" expired-sh "$url" gateway.I404NF "published to the stage sent in X-Ca-Stage"
  expect_verdict "$WORK/expired-sh.json" credentials.invalid actual "InvalidSecurityToken.Expired"
  FC_CREDENTIALS=0
  one_failure fc-sh "$REGION_API" nocreds-sh "$url" gateway.I404NF "published to the stage sent in X-Ca-Stage" APIGW_CONFIG_CHECK=on-failure
  FC_CREDENTIALS=1
  expect_verdict "$WORK/nocreds-sh.json" credentials.missing actual none
}

# --- 11: the control plane cannot be reached (its packets dropped on the service network),
# with FC's timeout at 2 s: the probe's answer (the VPC domain off) still comes within the
# deadline, and the verdict says the control plane did not answer
cut_control_plane() {
  vpc_domain_off
  in_ns dns nft add rule inet service cutoff counter name dropped drop
}
restore_control_plane() {
  in_ns dns nft flush chain inet service cutoff
  vpc_domain_on
}
case_unreachable() {
  local out="$WORK/cpdown-sh.json"
  FC_TIMEOUT_S=2
  one_failure fc-sh "$REGION_API" cpdown-sh '{}' dns.nxdomain "enable its VPC second-level domain"
  FC_TIMEOUT_S=30
  expect_verdict "$out" control_plane.unreachable
  check "$out" "unknown: no answer (unreachable or deadline_exceeded)" \
    '.targets[0].config_check.unknown | length > 0 and all(.reason == "unreachable" or .reason == "deadline_exceeded")'
  local ms
  ms=$(cat "$out.ms")
  [ "$ms" -lt 2000 ] || CASE_ERRORS+=("the invocation took $ms ms, past FC's timeout of 2 s")
  expect_counter dns service dropped "the service network dropped the calls to the control plane"
  CASE_NOTES+=("fc-sh: answered in $ms ms (FC timeout 2 s, deadline 1.5 s)")
}

# --- last: healthy again, and no credential byte in any output
case_healthy_again() {
  case_healthy
  local f
  for f in "$WORK"/*.json "$WORK"/*.json.headers "$WORK"/fn-*.log; do
    [ "$f" != "$WORK/world.json" ] || continue # the control plane's own world holds them
    if grep -qF -e "$STS_SECRET" -e "$STS_TOKEN" "$f"; then
      CASE_ERRORS+=("the role's secret or token appears in $(basename "$f")")
    fi
  done
}

cmd_test() {
  preflight lab-test
  start_run
  local t0
  t0=$(date +%s)
  build
  topology_summary
  say ""
  run_case 1 "both scenarios healthy; the cross-check finds the world consistent -> consistent" nothing nothing case_healthy
  run_case 2 "VPC second-level domain not enabled -> dns.nxdomain, group.vpc_domain_disabled" vpc_domain_off vpc_domain_on case_nxdomain
  run_case 3 "function without VPC access -> tcp.unreachable, function.not_in_vpc" no_vpc_access vpc_access case_no_vpc_access
  run_case 4 "another VPC bound for inbound access -> tcp.timeout, instance.inbound_vpc_mismatch / cen.gateway_vpc_not_attached" bind_other_vpc bind_vpc_api case_not_authorized
  run_case 4b "no VPC bound for inbound access -> tcp.timeout, instance.inbound_vpc_not_bound" unbind_vpc bind_vpc_api case_not_bound
  run_case 4c "the group's VPC whitelist names another VPC -> tcp.timeout, group.vpc_whitelist_blocks" whitelist_other no_whitelist case_whitelist
  run_case 4d "as 4, DescribeInstances denied to the role -> permission.denied with the action" bind_other_vpc_denied bind_vpc_api case_denied
  run_case 5 "CEN route for the gateway's range missing -> tcp.unreachable, cen.route_service_missing" no_cen_route cen_route case_no_cen_route
  run_case 5b "CEN drops cross-region traffic (no bandwidth package) -> tcp.timeout, consistent" cen_drops cen_forwards case_cen_drops
  run_case 5c "the function VPC's route table lacks the CEN route -> tcp.unreachable, cen.route_not_in_vpc_table" no_learned_route learned_route case_no_learned_route
  run_case 5d "the function's VPC not attached to CEN -> tcp.unreachable, cen.function_vpc_not_attached" detach_fc attach_fc case_fc_detached
  run_case 5e "the instance's VPC not attached to CEN -> tcp.unreachable, cen.gateway_vpc_not_attached" detach_api attach_api case_api_detached
  run_case 6 "customDNS without 100.100.2.136/138 -> dns.timeout, consistent" custom_dns vpc_dns case_custom_dns
  run_case 7 "backend security group without the egress range -> gateway.D504CO, consistent" sg_without_egress sg_with_egress case_sg
  run_case 8 "API not published to the stage called -> gateway.I404NF, api.stage_mismatch" nothing nothing case_stage
  run_case 8b "API published in no stage -> gateway.I404NF, api.not_published_to_stage" abolish_cloudapi world_reset case_abolished
  run_case 8c "API allows HTTPS only -> gateway.I403PT, api.protocol_not_allowed" https_only world_reset case_protocol
  run_case 9 "wrong AppSecret -> gateway.A403IS, consistent" nothing nothing case_wrong_secret
  run_case 9b "app not authorized for the API -> gateway.A403PR, app.not_authorized" revoke_app world_reset case_not_authorized_app
  run_case 9c "AppKey of no app -> gateway.A400IK, app.unknown" nothing nothing case_unknown_app
  run_case 10 "the role's STS token expired, or no credentials -> credentials.invalid, credentials.missing" expire_token world_reset case_credentials
  run_case 11 "control plane unreachable -> the probe's answer within FC's timeout, control_plane.unreachable" cut_control_plane restore_control_plane case_unreachable
  # After the matrix the lab is healthy again: every change was reverted.
  run_case 12 "healthy again after every change was reverted; no credential in any output" nothing nothing case_healthy_again
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
  # `wait` returns on a trapped signal (a foreground sleep would delay SIGTERM's cleanup); the
  # sleep is one of the run's processes, so the cleanup ends it too.
  while true; do
    sleep 3600 &
    PROCS[idle]=$!
    wait "${PROCS[idle]}" || true
  done
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

#!/usr/bin/env python3
"""A mmumesh gRPC client in Python, with Debian's python3-grpcio.

It shows the Linux change "KVM: PPC: Book3S PR: Better handling of host-side read-only pages"
from outside the JVM: for each of two policies it creates a host and two identical guests, lets KSM
merge them, has every guest read its pages through a workload stream, and reads the host's
counters. Under `legacy` every guest read asks the host for a writable page, so each read of a
merged page breaks copy-on-write (cow_ksm > 0); under `strict` reads map pages read-only and the
sharing survives (cow_ksm == 0). Exit status 0 when that is what the server says, 1 otherwise.

Stubs come from the same protos (see README.md next to this file):
  protoc -I ../../proto/src/main/proto --python_out=gen --grpc_python_out=gen \
      --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
      ../../proto/src/main/proto/mmumesh/v1/*.proto
"""

import argparse
import sys

import grpc

from mmumesh.v1 import access_service_pb2 as access
from mmumesh.v1 import access_service_pb2_grpc as access_grpc
from mmumesh.v1 import host_service_pb2 as hosts
from mmumesh.v1 import host_service_pb2_grpc as hosts_grpc
from mmumesh.v1 import ksm_service_pb2 as ksm
from mmumesh.v1 import ksm_service_pb2_grpc as ksm_grpc
from mmumesh.v1 import types_pb2 as types
from mmumesh.v1 import vm_service_pb2 as vms
from mmumesh.v1 import vm_service_pb2_grpc as vms_grpc

WINDOW = 0x10000000  # the guest kernel model's linear map: effective page p -> gfn p
PAGES = 32


def counters(rows):
    return {c.name: c.value for c in rows}


def run_policy(channel, policy, host_id, first_vm):
    """Two identical guests under `policy`: merge, read everything, return the host's counters."""
    h = hosts_grpc.HostServiceStub(channel)
    v = vms_grpc.VmServiceStub(channel)
    k = ksm_grpc.KsmServiceStub(channel)
    a = access_grpc.AccessServiceStub(channel)
    h.CreateHost(hosts.CreateHostRequest(
        host_id=host_id, host_mmu=hosts.HOST_MMU_KIND_64, max_frames=8192))
    image = vms.Fingerprints(values=[0xC0FFEE00 + i for i in range(PAGES)])
    guests = [first_vm, first_vm + 1]
    for vm in guests:
        v.CreateVm(vms.CreateVmRequest(
            vm_id=vm, host_id=host_id, mmu_kind=types.MMU_KIND_BOOK3S_64,
            memory_size_bytes=1 << 20, vcpu_count=1,
            options=types.MmuOptions(policy=policy, use_policy_defaults=True),
            ksm_mergeable=True))
        v.LoadMemory(vms.LoadMemoryRequest(vm=types.VmRef(vm_id=vm), fingerprints=image))
    k.SetKsmControl(ksm.SetKsmControlRequest(host_id=host_id, run=ksm.KSM_RUN_MERGE, pages_to_scan=1))
    merged = counters(k.RunKsmPasses(ksm.RunKsmPassesRequest(host_id=host_id, passes=3)).counters)
    if merged.get("pages_sharing", 0) < PAGES:
        raise SystemExit(f"{policy}: KSM merged only {merged.get('pages_sharing')} pages")
    for vm in guests:
        batch = access.RunWorkloadRequest(
            vcpu=types.VcpuRef(vm_id=vm, vcpu_index=0), batch_id=1,
            accesses=[access.WorkloadAccess(kind=types.ACCESS_KIND_LOAD,
                                            effective_addr=WINDOW + p * 4096)
                      for p in range(PAGES)])
        results = list(a.RunWorkload(iter([batch])))
        done = sum(r.completed for r in results)
        failed = sum(r.failed for r in results)
        if done != PAGES or failed:
            raise SystemExit(f"{policy}: vm {vm} completed {done}, failed {failed}: "
                             f"{[f for r in results for f in r.failures]}")
    stats = counters(h.GetHostStats(hosts.GetHostStatsRequest(host_id=host_id)).counters)
    return merged, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="127.0.0.1:50051", help="gateway address host:port")
    ap.add_argument("--base-id", type=int, default=100,
                    help="first host/VM id to use (ids are never reused in a cluster)")
    args = ap.parse_args()
    with grpc.insecure_channel(args.target) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        rows = {}
        for i, policy in enumerate((types.POLICY_LEGACY, types.POLICY_STRICT)):
            name = types.Policy.Name(policy)
            merged, stats = run_policy(channel, policy, args.base_id + i, args.base_id + 10 * i)
            cow = stats.get("cow_ksm", stats.get("COW_KSM", 0))
            rows[name] = cow
            print(f"{name:14} pages_sharing after merge {merged['pages_sharing']:4}  "
                  f"KSM pages unshared by guest reads (cow_ksm) {cow}")
    ok = rows["POLICY_LEGACY"] > 0 and rows["POLICY_STRICT"] == 0
    print("legacy unshares merged pages on reads, strict keeps them shared:",
          "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

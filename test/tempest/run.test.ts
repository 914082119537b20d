/** The reading of testtools.run's output that the tempest harness reports from. */
import { parseTesttoolsOutput, summarize } from "./run";

const FAILED = `Tests running...
======================================================================
FAIL: tempest.api.volume.admin.test_volume_hosts.VolumeHostsAdminTestsJSON.test_show_host[id-21168d57-b373-4b71-a3ac-f2c88f0c5d31]
----------------------------------------------------------------------
pythonlogging:'': {{{
2026-11-21 20:34:42,094 INFO [tempest.lib.common.rest_client] Request: 404 GET http://h/v3/p/os-hosts/ks@file-1 0.002s
}}}

Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/tempest/lib/common/rest_client.py", line 826, in _error_checker
    raise exceptions.NotFound(resp_body, resp=resp)
tempest.lib.exceptions.NotFound: Object not found
Details: {'code': 404, 'message': 'The resource could not be found.'}

Ran 2 tests in 0.142s
FAILED (failures=1)
`;

test("a failed module lists each failing test with the API's answer", () => {
  const r = parseTesttoolsOutput("m", FAILED, 1.5);
  expect(r).toMatchObject({ module: "m", ok: false, ran: 2, seconds: 1.5 });
  expect(r.failures).toEqual([
    {
      test: "tempest.api.volume.admin.test_volume_hosts.VolumeHostsAdminTestsJSON.test_show_host",
      reason:
        "tempest.lib.exceptions.NotFound: Object not found Details: {'code': 404, 'message': 'The resource could not be found.'}",
    },
  ]);
  expect(summarize([r])).toContain("FAIL m: 2 ran, 1 failed (1.5 s)\n    tempest.api");
});

test("a passing module", () => {
  expect(parseTesttoolsOutput("m", "Tests running...\n\nRan 5 tests in 2.342s\nOK\n")).toMatchObject({
    ok: true,
    ran: 5,
    failures: [],
  });
});

test("a module that cannot even be imported is a failure with the import error", () => {
  const out = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'tempest'\n";
  expect(parseTesttoolsOutput("m", out)).toMatchObject({
    ok: false,
    ran: 0,
    failures: [{ test: "m", reason: "ModuleNotFoundError: No module named 'tempest'" }],
  });
});

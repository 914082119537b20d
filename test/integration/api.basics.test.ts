/**
 * The envelope every client meets: version documents, microversion negotiation, request ids,
 * URLs with and without the project, authentication, and fault bodies.
 */
import request from "supertest";

import { addVolume, ADMIN, api, type Harness, MEMBER, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const REQ_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("version documents", () => {
  const expected = (host: string) => ({
    versions: [
      {
        id: "v3.0",
        status: "CURRENT",
        version: "3.71",
        min_version: "3.0",
        updated: "2023-08-31T00:00:00Z",
        links: [
          { rel: "describedby", type: "text/html", href: "https://docs.openstack.org/" },
          { rel: "self", href: `http://${host}/v3/` },
        ],
        "media-types": [
          { base: "application/json", type: "application/vnd.openstack.volume+json;version=3" },
        ],
      },
    ],
  });

  test("GET / answers 300 without checking the microversion cinderclient sends", async () => {
    const res = await request(h.app)
      .get("/")
      .set("Host", "cinder.example:8776")
      .set("OpenStack-API-Version", "volume 3.99");
    expect(res.status).toBe(300);
    expect(res.body).toEqual(expected("cinder.example:8776"));
    expect(res.headers["x-openstack-request-id"]).toMatch(REQ_ID);
  });

  test.each(["/v3", "/v3/"])("GET %s answers 200, no token needed", async (path) => {
    const res = await request(h.app)
      .get(path)
      .set("Host", "h:1")
      .set("OpenStack-API-Version", "volume bogus");
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expected("h:1"));
  });
});

describe("microversions", () => {
  test("absent header means 3.0 and the response says so", async () => {
    const res = await api(h, "get", "/v3/demo/volumes");
    expect(res.status).toBe(200);
    expect(res.headers["openstack-api-version"]).toBe("volume 3.0");
    expect(res.headers["vary"]).toBe("OpenStack-API-Version");
  });

  test("latest is 3.71", async () => {
    const res = await api(h, "get", "/v3/demo/volumes").set("OpenStack-API-Version", "volume latest");
    expect(res.headers["openstack-api-version"]).toBe("volume 3.71");
  });

  test("malformed version → 400", async () => {
    const res = await api(h, "get", "/v3/demo/volumes", { version: "3.x" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      badRequest: {
        code: 400,
        message: "API Version String 3.x is of invalid format. Must be of format MajorNum.MinorNum.",
      },
    });
  });

  test.each(["3.72", "2.0", "4.0"])("version %s out of range → 406 computeFault, echoed", async (v) => {
    const res = await api(h, "get", "/v3/demo/volumes", { version: v });
    expect(res.status).toBe(406);
    expect(res.body).toEqual({
      computeFault: {
        code: 406,
        message: `Version ${v} is not supported by the API. Minimum is 3.0 and maximum is 3.71.`,
      },
    });
    expect(res.headers["openstack-api-version"]).toBe(`volume ${v}`);
    expect(res.headers["x-openstack-request-id"]).toMatch(REQ_ID);
  });

  test("faults carry the version headers too", async () => {
    const res = await api(h, "get", "/v3/demo/volumes/nope", { version: "3.50" });
    expect(res.status).toBe(404);
    expect(res.headers["openstack-api-version"]).toBe("volume 3.50");
    expect(res.headers["vary"]).toBe("OpenStack-API-Version");
  });
});

describe("URLs and authentication", () => {
  test("with and without the project id, links follow the request", async () => {
    const v = await addVolume(h, { name: "urls" });
    const withProject = await api(h, "get", `/v3/demo/volumes/${v.id}`).set("Host", "h:8776");
    const without = await api(h, "get", `/v3/volumes/${v.id}`).set("Host", "h:8776");
    expect(withProject.status).toBe(200);
    expect(without.status).toBe(200);
    expect(withProject.body.volume.links).toEqual([
      { rel: "self", href: `http://h:8776/v3/demo/volumes/${v.id}` },
      { rel: "bookmark", href: `http://h:8776/demo/volumes/${v.id}` },
    ]);
    expect(without.body.volume.links).toEqual([
      { rel: "self", href: `http://h:8776/v3/volumes/${v.id}` },
      { rel: "bookmark", href: `http://h:8776/volumes/${v.id}` },
    ]);
  });

  test("every response carries a fresh request id", async () => {
    const a = await api(h, "get", "/v3/demo/volumes");
    const b = await api(h, "get", "/v3/demo/volumes");
    expect(a.headers["x-openstack-request-id"]).toMatch(REQ_ID);
    expect(b.headers["x-openstack-request-id"]).not.toBe(a.headers["x-openstack-request-id"]);
    // cinderclient quotes this one in "(Request-ID: …)".
    expect(a.headers["x-compute-request-id"]).toBe(a.headers["x-openstack-request-id"]);
  });

  test("no token → 401", async () => {
    const res = await api(h, "get", "/v3/demo/volumes", { token: null });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      unauthorized: { code: 401, message: "The request you have made requires authentication." },
    });
  });

  test("noauth: admin user vs member vs openstackclient's notused", async () => {
    const admin = await api(h, "get", "/v3/demo/os-services", { token: ADMIN });
    const member = await api(h, "get", "/v3/demo/os-services", { token: MEMBER });
    const osc = await api(h, "get", "/v3/demo/os-services", { token: "notused" });
    expect(admin.status).toBe(200);
    expect(member.status).toBe(403);
    expect(member.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:services:index to be performed.",
    );
    expect(osc.status).toBe(200);
  });

  test("a URL naming another project than the token's → 400 Malformed request url", async () => {
    const res = await api(h, "get", "/v3/other/volumes", { token: MEMBER });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe("Malformed request url");
  });

  test("unknown paths answer a fast 404 (openstackclient's servers/detail probe)", async () => {
    for (const path of ["/v3/demo/servers/detail", "/v3/servers/detail", "/nothing"]) {
      const res = await api(h, "get", path, { token: "notused" });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ itemNotFound: { code: 404, message: "The resource could not be found." } });
    }
  });

  test("static tokens", async () => {
    const s = await startHarness(
      "auth_strategy = static\n[static_tokens]\nsecret = root:demo:admin\nplain = u:demo:member\n",
    );
    try {
      expect((await api(s, "get", "/v3/demo/os-hosts", { token: "secret" })).status).toBe(200);
      expect((await api(s, "get", "/v3/demo/os-hosts", { token: "plain" })).status).toBe(403);
      expect((await api(s, "get", "/v3/demo/os-hosts", { token: "admin:demo" })).status).toBe(401);
    } finally {
      await s.close();
    }
  });
});

describe("bodies", () => {
  test("JSON is parsed whatever the Content-Type", async () => {
    const res = await api(h, "post", "/v3/demo/volumes")
      .set("Content-Type", "text/plain")
      .send(JSON.stringify({ volume: { size: 1, name: "plain" } }));
    expect(res.status).toBe(202);
    expect(res.body.volume.name).toBe("plain");
  });

  test("unparsable JSON → 400 Malformed request body", async () => {
    const res = await api(h, "post", "/v3/demo/volumes")
      .set("Content-Type", "application/json")
      .send("{nope");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ badRequest: { code: 400, message: "Malformed request body" } });
  });
});

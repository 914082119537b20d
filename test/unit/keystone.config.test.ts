import { parseConfig } from "../../common/config";
import { ConfigError } from "../../common/errors";
import { loadUsersFile } from "../../services/keystone";

const authtoken = `
[keystone_authtoken]
auth_url = http://keystone.example/identity
username = cinder
password = pw
project_name = service
`;

test("auth_strategy = keystone reads [keystone_authtoken] with keystonemiddleware's names and defaults", () => {
  const c = parseConfig(`[DEFAULT]\nauth_strategy = keystone\n${authtoken}`, {});
  expect(c.authStrategy).toBe("keystone");
  expect(c.keystoneAuthtoken).toEqual({
    authUrl: "http://keystone.example/identity",
    wwwAuthenticateUri: "http://keystone.example/identity",
    username: "cinder",
    password: "pw",
    projectName: "service",
    userDomainName: "Default",
    projectDomainName: "Default",
    tokenCacheTime: 300,
    httpConnectTimeout: 5,
  });
  expect(c.keystone).toEqual({ enabled: false, usersFile: null, tokenExpiration: 3600, region: "RegionOne" });
});

test("www_authenticate_uri and the other options can be set; [keystone_authtoken] is ignored without keystone", () => {
  const c = parseConfig(
    `[DEFAULT]\nauth_strategy = keystone\n${authtoken}www_authenticate_uri = https://public.example/identity\n` +
      "token_cache_time = 0\nhttp_connect_timeout = 2\nauth_type = password\n",
    {},
  );
  expect(c.keystoneAuthtoken).toMatchObject({
    wwwAuthenticateUri: "https://public.example/identity",
    tokenCacheTime: 0,
    httpConnectTimeout: 2,
  });
  expect(parseConfig(`[DEFAULT]\n${authtoken}`, {}).keystoneAuthtoken).toBeNull();
});

test("the built-in Keystone is enabled with oslo boolean spellings and needs users_file", () => {
  const c = parseConfig(
    "[DEFAULT]\nstate_path = /srv\n[keystone]\nenabled = True\nusers_file = $state_path/u.json\n",
    {},
  );
  expect(c.keystone).toEqual({
    enabled: true,
    usersFile: "/srv/u.json",
    tokenExpiration: 3600,
    region: "RegionOne",
  });
});

test.each([
  ["auth_strategy = keystone\n", "[keystone_authtoken] auth_url is required"],
  [
    `auth_strategy = keystone\n${authtoken.replace("username = cinder\n", "")}`,
    "[keystone_authtoken] username is required",
  ],
  [
    `auth_strategy = keystone\n${authtoken.replace("password = pw\n", "")}`,
    "[keystone_authtoken] password is required",
  ],
  [
    `auth_strategy = keystone\n${authtoken.replace("project_name = service\n", "")}`,
    "[keystone_authtoken] project_name",
  ],
  [`auth_strategy = keystone\n${authtoken.replace("http://", "ftp://")}`, "[keystone_authtoken] auth_url"],
  [`auth_strategy = keystone\n${authtoken}auth_type = v3token\n`, "[keystone_authtoken] auth_type"],
  [
    `auth_strategy = keystone\n${authtoken}www_authenticate_uri = nowhere\n`,
    "[keystone_authtoken] www_authenticate_uri",
  ],
  [`auth_strategy = keystone\n${authtoken}token_cache_time = -1\n`, "[keystone_authtoken] token_cache_time"],
  [
    `auth_strategy = keystone\n${authtoken}http_connect_timeout = 0\n`,
    "[keystone_authtoken] http_connect_timeout",
  ],
  ["[keystone]\nenabled = true\n", "[keystone] users_file is required"],
  ["[keystone]\nenabled = maybe\n", "[keystone] enabled"],
  ["[keystone]\nenabled = false\ntoken_expiration = 10\n", "[keystone] token_expiration"],
])("a bad keystone setting stops start-up naming the key (%#)", (text, key) => {
  const conf = `[DEFAULT]\n${text}`;
  expect(() => parseConfig(conf, {})).toThrow(ConfigError);
  expect(() => parseConfig(conf, {})).toThrow(key);
});

test("a users file that cannot be read names the option and the file", () => {
  expect(() => loadUsersFile("/nonexistent/users.json")).toThrow(
    "Invalid configuration: [keystone] users_file /nonexistent/users.json: ENOENT",
  );
});

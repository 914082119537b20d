/**
 * The user volume actions (cinder/api/contrib/volume_actions.py): the old attach/detach flow Nova
 * and tempest use, os-extend, os-retype, os-set_bootable and os-update_readonly_flag.
 */
import { toBool } from "../../schemas/parameterTypes";
import {
  validateAttach,
  validateBeginDetaching,
  validateDetach,
  validateExtend,
  validateReadonlyFlag,
  validateReserve,
  validateRetype,
  validateRollDetaching,
  validateSetBootable,
  validateUnreserve,
} from "../../schemas/volumeActions";
import { type ActionTable, optionalString, params } from "./types";

/** VOLUME_EXTEND_INUSE: from 3.42 an in-use volume may be extended. */
const EXTEND_IN_USE = "3.42";

export const volumeActions: ActionTable = (volumes) => ({
  "os-reserve": async (c, id, body) => {
    validateReserve(body);
    await volumes.reserve(c, id);
  },

  "os-unreserve": async (c, id, body) => {
    validateUnreserve(body);
    await volumes.unreserve(c, id);
  },

  "os-begin_detaching": async (c, id, body) => {
    validateBeginDetaching(body);
    await volumes.beginDetaching(c, id);
  },

  "os-roll_detaching": async (c, id, body) => {
    validateRollDetaching(body);
    await volumes.rollDetaching(c, id);
  },

  "os-attach": async (c, id, body) => {
    validateAttach(body);
    const p = params(body, "os-attach");
    await volumes.attach(c, id, {
      instanceUuid: optionalString(p["instance_uuid"]),
      hostName: optionalString(p["host_name"]),
      mountpoint: String(p["mountpoint"]),
      mode: p["mode"] === "ro" ? "ro" : "rw",
    });
  },

  "os-detach": async (c, id, body) => {
    validateDetach(body);
    await volumes.detach(c, id, optionalString(params(body, "os-detach")["attachment_id"]));
  },

  "os-extend": async (c, id, body) => {
    validateExtend(body);
    const newSize = Number(params(body, "os-extend")["new_size"]);
    await volumes.extend(c, id, newSize, c.apiVersion.matches(EXTEND_IN_USE));
  },

  "os-retype": async (c, id, body) => {
    validateRetype(body);
    const p = params(body, "os-retype");
    const policy = p["migration_policy"];
    await volumes.retype(c, id, {
      newType: String(p["new_type"]),
      migrationPolicy: policy === "never" || policy === "on-demand" ? policy : null,
    });
  },

  // Cinder answers os-set_bootable with 200 (and no body), unlike the other actions.
  "os-set_bootable": async (c, id, body) => {
    validateSetBootable(body);
    await volumes.setBootable(c, id, toBool(params(body, "os-set_bootable")["bootable"]));
    return { status: 200 };
  },

  "os-update_readonly_flag": async (c, id, body) => {
    validateReadonlyFlag(body);
    await volumes.updateReadonlyFlag(c, id, toBool(params(body, "os-update_readonly_flag")["readonly"]));
  },
});

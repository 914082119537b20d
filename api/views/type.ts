/**
 * The volume type view (cinder/api/v3/views/types.py plus os-volume-type-access:is_public). Every
 * caller sees extra_specs, but only admins the sensitive ones (anything but the user-visible keys
 * of cinder/policies/type_extra_specs.py), and only admins qos_specs_id.
 */
import type { VolumeType } from "../../db/volumeTypes";
import { readableSpecs } from "../../services/volumeApi/typeExtraSpecs";
import type { RequestContext } from "../context";

/** GET /types, /types/{id} and PUT /types/{id}. */
export function typeView(t: VolumeType, c: RequestContext): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    is_public: t.is_public,
    description: t.description,
    extra_specs: readableSpecs(t, c),
  };
  if (c.isAdmin) {
    out["qos_specs_id"] = t.qos_specs_id;
  }
  out["os-volume-type-access:is_public"] = t.is_public;
  return out;
}

/** POST /types answers with the older view (cinder/api/views/types.py): no qos_specs_id. */
export function createdTypeView(t: VolumeType): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    is_public: t.is_public,
    extra_specs: t.extra_specs,
    description: t.description,
    "os-volume-type-access:is_public": t.is_public,
  };
}

/** PUT /types/{id} answers with the older view too, without the access extension. */
export function updatedTypeView(t: VolumeType): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    is_public: t.is_public,
    extra_specs: t.extra_specs,
    description: t.description,
  };
}

/** The QoS specs view (cinder/api/views/qos_specs.py). */
import type { QosSpecs } from "../../db/qosSpecs";
import type { RequestContext } from "../context";
import { resourceLinks } from "./common";

export function qosSpecsSummary(q: QosSpecs): Record<string, unknown> {
  return { id: q.id, name: q.name, consumer: q.consumer, specs: q.specs };
}

/** POST and GET /qos-specs/{id}: the spec and, beside it, its links. */
export function qosSpecsDetail(q: QosSpecs, c: RequestContext): Record<string, unknown> {
  return { qos_specs: qosSpecsSummary(q), links: resourceLinks(c, "qos-specs", q.id) };
}

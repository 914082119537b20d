/**
 * The Cinder v3 REST API as an express application (no listen: the process entry point or a test
 * does that). Request pipeline:
 *
 *   request id → raw body → dashboard (`/dashboard/`, static files) → version documents (`/`,
 *   `/v3/`, no microversion check)
 *   → /v3: microversion → project id in the URL → authentication → routes → 404 → faults
 */
import express, { type NextFunction, type Request, type Response } from "express";

import type { AppConfig } from "../common/config";
import { InvalidInput } from "../common/errors";
import type { Logger } from "../common/logger";
import { isRequestId, newRequestId, runWithRequestIds } from "../common/requestContext";
import type { Db } from "../db/connection";
import { DiskDrainApi } from "../services/diskDrain/api";
import { EvacuationApi } from "../services/evacuation/evacuationApi";
import { ChangeFeed, databaseSource } from "../services/events/changeFeed";
import { keystoneRouter } from "../services/keystone";
import type { Bus } from "../services/rpc/types";
import { AttachmentApi } from "../services/volumeApi/attachmentApi";
import { DiscoveryApi } from "../services/volumeApi/discoveryApi";
import { InfoApi } from "../services/volumeApi/infoApi";
import { ManageApi } from "../services/volumeApi/manageApi";
import { MessageApi } from "../services/volumeApi/messageApi";
import { MigrationApi } from "../services/volumeApi/migrationApi";
import { QosApi } from "../services/volumeApi/qosApi";
import { QuotaApi } from "../services/volumeApi/quotaApi";
import { SnapshotApi } from "../services/volumeApi/snapshotApi";
import { TransferApi } from "../services/volumeApi/transferApi";
import { TypeEncryptionApi } from "../services/volumeApi/typeEncryption";
import { TypeExtraSpecsApi } from "../services/volumeApi/typeExtraSpecs";
import { VolumeApi } from "../services/volumeApi/volumeApi";
import { TypeApi } from "../services/volumeApi/volumeTypeApi";
import { authMiddleware } from "./auth";
import { initRequest, requestIdsOf, setApiVersion, storeBody } from "./context";
import { faultHandler, notFound } from "./faults";
import { metricsRouter } from "./metrics";
import { API_VERSION_HEADER, negotiate, VOLUME_SERVICE } from "./microversion";
import { stripProjectId } from "./projectUrl";
import { attachmentsRouter } from "./routes/attachments";
import { dashboardRouter } from "./routes/dashboard";
import { discoveryRouter } from "./routes/discovery";
import { diskDrainsRouter } from "./routes/diskDrains";
import { evacuationsRouter } from "./routes/evacuations";
import { eventsRouter } from "./routes/events";
import { infoRouter } from "./routes/info";
import { manageRouter } from "./routes/manage";
import { messagesRouter } from "./routes/messages";
import { migrationsRouter } from "./routes/migrations";
import { qosSpecsRouter } from "./routes/qosSpecs";
import { quotasRouter } from "./routes/quotas";
import { snapshotActionsRouter } from "./routes/snapshotActions";
import { snapshotsRouter } from "./routes/snapshots";
import { transfersRouter } from "./routes/transfers";
import { typeEncryptionRouter } from "./routes/typeEncryption";
import { typesRouter } from "./routes/types";
import { versionsRouter } from "./routes/versions";
import { volumeActionsRouter } from "./routes/volumeActions";
import { volumesRouter } from "./routes/volumes";

export interface ApiDeps {
  db: Db;
  bus: Bus;
  config: AppConfig;
  logger: Logger;
  /** Aborted when the process shuts down: long-lived responses (event streams) end then. */
  signal?: AbortSignal;
}

/** The header a client names its request id in (oslo.middleware's INBOUND_HEADER). */
const INBOUND_REQUEST_ID = "X-OpenStack-Request-ID";

/** Largest request body accepted (Cinder's sizelimit middleware default is 112 KiB; we allow more). */
const MAX_BODY = "1mb";

/**
 * oslo's request id. Cinder also sends it as `x-compute-request-id` (on successful responses); we
 * send both on every response because that is the header cinderclient 9 quotes as
 * "(Request-ID: …)" in its error messages.
 *
 * As in oslo.middleware, each request gets an id of its own, and a well-formed
 * `X-OpenStack-Request-ID` from the client is kept beside it as the global request id (a malformed
 * one is ignored): cinderclient sends back the id of its first response on every later request,
 * so taking it as ours would give all of a client's requests one id. The rest of the request, and
 * every log line of the work it causes, runs with both ids (common/requestContext.ts).
 */
function requestId(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const id = newRequestId();
    const global = req.get(INBOUND_REQUEST_ID);
    initRequest(req, id, isRequestId(global) ? global : undefined);
    res.setHeader("x-openstack-request-id", id);
    res.setHeader("x-compute-request-id", id);
    const ids = requestIdsOf(req);
    // Cinder's WSGI line for each request, so a grep for the id starts with the request itself.
    // 'finish' fires in the connection's context: the ids are entered again for it.
    res.once("finish", () =>
      runWithRequestIds(ids, () =>
        logger.info(
          {
            method: req.method,
            url: req.originalUrl,
            status: res.statusCode,
            duration_ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          },
          `${req.method} ${req.originalUrl} status: ${res.statusCode}`,
        ),
      ),
    );
    runWithRequestIds(ids, next);
  };
}

/**
 * Enters the request's ids again: body-parser calls next() from the request stream's 'end' event,
 * which runs in the connection's context, not the request's.
 */
function reenterRequest(req: Request, _res: Response, next: NextFunction): void {
  runWithRequestIds(requestIdsOf(req), next);
}

/**
 * Negotiate the microversion and announce it on every response, faults included; a version out of
 * range is still echoed, as Cinder does.
 */
function microversion(req: Request, res: Response, next: NextFunction): void {
  const result = negotiate(req.get(API_VERSION_HEADER));
  const announce = (v: string): void => {
    res.setHeader(API_VERSION_HEADER, `${VOLUME_SERVICE} ${v}`);
    res.setHeader("Vary", API_VERSION_HEADER);
  };
  if (result.ok) {
    setApiVersion(req, result.version);
    announce(result.version.toString());
    next();
    return;
  }
  if (result.echo) {
    announce(result.echo);
  }
  next(result.error);
}

/**
 * A NUL character can only reach a path or query escaped as `%00` (node refuses the raw byte), and
 * Postgres cannot store or even compare it in text: refuse it before any route looks anything up.
 */
function refuseNulInUrl(req: Request, _res: Response, next: NextFunction): void {
  next(
    req.originalUrl.includes("%00")
      ? new InvalidInput("NUL characters (%00) are not allowed in the URL")
      : undefined,
  );
}

function v3Router(deps: ApiDeps): express.Router {
  const r = express.Router();
  r.use(microversion);
  r.use(stripProjectId);
  r.use(authMiddleware(deps.config));
  // After authentication: a caller without a token learns nothing more than 401.
  r.use(refuseNulInUrl);
  const volumes = new VolumeApi(deps);
  // Before the action table: it answers os-unmanage and passes every other action on.
  r.use(manageRouter(new ManageApi(deps), volumes));
  r.use(volumeActionsRouter(volumes));
  r.use(volumesRouter(volumes));
  r.use(snapshotsRouter(new SnapshotApi(deps)));
  r.use(snapshotActionsRouter(deps));
  r.use(typesRouter(new TypeApi(deps), new TypeExtraSpecsApi(deps)));
  r.use(typeEncryptionRouter(new TypeEncryptionApi(deps)));
  r.use(transfersRouter(new TransferApi(deps)));
  r.use(quotasRouter(new QuotaApi(deps)));
  r.use(qosSpecsRouter(new QosApi(deps)));
  r.use(messagesRouter(new MessageApi(deps)));
  r.use(attachmentsRouter(new AttachmentApi(deps)));
  r.use(infoRouter(new InfoApi(deps)));
  r.use(discoveryRouter(new DiscoveryApi(deps)));
  const migrations = new MigrationApi(deps);
  r.use(migrationsRouter(migrations));
  const evacuations = new EvacuationApi(deps);
  r.use(evacuationsRouter(evacuations));
  r.use(diskDrainsRouter(new DiskDrainApi(deps)));
  const feed = new ChangeFeed({ source: databaseSource(deps.db), logger: deps.logger });
  r.use(eventsRouter({ feed, volumes, migrations, evacuations, logger: deps.logger, signal: deps.signal }));
  return r;
}

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // Cinder sends no ETags (only volume metadata has one, from 3.15); express would add its own.
  app.disable("etag");
  app.use(requestId(deps.logger));
  // Request durations for every request, and GET /metrics (no auth: aggregate figures only).
  app.use(metricsRouter(deps));
  // Read every body as bytes: it is JSON whatever the Content-Type says, and decoding it is left
  // to the routes so that an unknown path answers 404 before a malformed body answers 400.
  app.use(
    express.raw({ type: () => true, limit: MAX_BODY }),
    (req: Request, _res: Response, next: NextFunction) => {
      storeBody(req, Buffer.isBuffer(req.body) ? req.body : undefined);
      next();
    },
    reenterRequest,
  );
  // The operators' dashboard: static files, no microversion, no token (the page signs in itself).
  app.use("/dashboard", dashboardRouter(deps));
  app.use(versionsRouter());
  app.use("/v3", v3Router(deps));
  app.use("/identity", keystoneRouter(deps));
  app.use(notFound);
  app.use(faultHandler(deps.logger));
  return app;
}

// The app's data, by id, filled by the REST reads of each view and patched by live events.
// A plain reducer for preact's useReducer.

export function initialState() {
  return { migrations: new Map(), volumes: new Map(), evacuations: new Map() };
}

function upsert(map, item, merge = true) {
  const next = new Map(map);
  next.set(item.id, merge ? { ...map.get(item.id), ...item } : item);
  return next;
}

export function reducer(state, action) {
  switch (action.type) {
    case "migrations":
      return { ...state, migrations: new Map(action.list.map((m) => [m.id, m])) };
    case "migration":
      return { ...state, migrations: upsert(state.migrations, action.item) };
    case "volumes":
      return { ...state, volumes: new Map(action.list.map((v) => [v.id, v])) };
    case "volume": {
      if (action.item.status === "deleted") {
        const next = new Map(state.volumes);
        next.delete(action.item.id);
        return { ...state, volumes: next };
      }
      return { ...state, volumes: upsert(state.volumes, action.item, false) };
    }
    case "evacuations": {
      // The list has no items: keep those a show or an event brought.
      const next = new Map(
        action.list.map((e) => [e.id, { ...e, items: e.items ?? state.evacuations.get(e.id)?.items }]),
      );
      return { ...state, evacuations: next };
    }
    case "evacuation":
      return { ...state, evacuations: upsert(state.evacuations, action.item) };
    default:
      return state;
  }
}

/** Migrations not finished yet. */
export const ACTIVE_STATES = ["starting", "queued", "migrating", "completing"];
export const isActive = (m) => ACTIVE_STATES.includes(m.state);

import { messageOf } from './api.js';
import type { AppContext } from './context.js';
import { h, replaceChildren } from './dom.js';
import type { Workspace } from './types.js';

export interface WorkspacePicker {
  readonly element: HTMLElement;
  readonly select: HTMLSelectElement;
  /** Fetches the workspaces, fills the select and reports the selected one (null when there is none). */
  load(): Promise<Workspace | null>;
}

/** A labelled select of the tenant's workspaces; the choice is shared between pages. */
export function workspacePicker(context: AppContext, id: string, onChange: (workspace: Workspace) => void): WorkspacePicker {
  const select = h('select', { id, name: 'workspace', disabled: true }, h('option', { value: '' }, 'Loading workspaces…'));
  const note = h('p', { class: 'hint', id: `${id}-note`, role: 'status' });
  let workspaces: Workspace[] = [];
  select.addEventListener('change', () => {
    const workspace = workspaces.find((w) => w.id === select.value);
    if (!workspace) return;
    context.selectedWorkspaceId = workspace.id;
    onChange(workspace);
  });
  const element = h('div', { class: 'field field-inline' }, h('label', { for: id }, 'Workspace'), select, note);

  return {
    element,
    select,
    async load() {
      try {
        workspaces = await context.workspaces();
      } catch (error) {
        replaceChildren(select, h('option', { value: '' }, 'Unavailable'));
        note.textContent = `The workspaces could not be loaded: ${messageOf(error)}`;
        return null;
      }
      if (workspaces.length === 0) {
        replaceChildren(select, h('option', { value: '' }, 'No workspaces'));
        note.textContent = 'This tenant has no workspace yet: a platform admin creates one with POST /v1/tenants/:tenantId/workspaces.';
        return null;
      }
      const selected = workspaces.find((w) => w.id === context.selectedWorkspaceId) ?? workspaces[0];
      context.selectedWorkspaceId = selected.id;
      const names = new Map<string, number>();
      for (const w of workspaces) names.set(w.name, (names.get(w.name) ?? 0) + 1);
      // two workspaces with one name are told apart by the start of their ids
      const label = (w: Workspace) => (names.get(w.name)! > 1 ? `${w.name} (${w.id.slice(0, 8)})` : w.name);
      replaceChildren(
        select,
        workspaces.map((w) => h('option', { value: w.id, selected: w.id === selected.id }, label(w))),
      );
      select.value = selected.id;
      select.disabled = false;
      note.textContent = '';
      return selected;
    },
  };
}

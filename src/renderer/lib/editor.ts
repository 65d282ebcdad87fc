/**
 * The patch editor: CodeMirror 6 with YAML, completion and hover docs from the
 * patch's JSON Schema (codemirror-json-schema's YAML mode over
 * schema/patch.schema.json), and the session's own validation errors as
 * diagnostics at their lines.
 *
 * Strict CSP (style-src 'self', no inline style): CodeMirror writes its styles
 * at run time through style-mod, which uses a `<style>` element in a document
 * (refused by the CSP) but a constructable stylesheet (`adoptedStyleSheets`)
 * in a shadow root. So the editor is mounted in an open shadow root of its host
 * element and given that root (`EditorView({ root })`): its styles go into
 * adopted sheets, which a CSP does not govern, and no nonce or hash is needed.
 */
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, hoverTooltip } from '@codemirror/view';
import { EditorState } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { autocompletion, completionKeymap } from '@codemirror/autocomplete';
import { bracketMatching, foldGutter, indentOnInput, syntaxHighlighting, HighlightStyle } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { linter, lintGutter, setDiagnostics, forceLinting, type Diagnostic } from '@codemirror/lint';
import { yaml, yamlLanguage } from '@codemirror/lang-yaml';
import { yamlCompletion, yamlSchemaHover } from 'codemirror-json-schema/yaml';
import { stateExtensions } from 'codemirror-json-schema';
import type { TextError } from './library.svelte.ts';

export interface PatchEditor {
  view: EditorView;
  text(): string;
  setText(text: string, readOnly: boolean): void;
  /** Shows these errors (a save's) at their lines now. */
  showErrors(errors: TextError[]): void;
  /** Asks the session again (after the patch's path changed). */
  relint(): void;
  destroy(): void;
}

export interface EditorOptions {
  schema: Parameters<typeof stateExtensions>[0];
  /** The session's check of the text (`validate`). */
  validate(text: string): Promise<TextError[]>;
  onChange(text: string): void;
}

/** A diagnostic from an error with a line and column: the word there, or to the end of the line. */
export function toDiagnostic(state: EditorState, e: TextError): Diagnostic {
  const doc = state.doc;
  const line = doc.line(Math.min(Math.max(1, e.line ?? 1), doc.lines));
  const from = Math.min(line.to, line.from + Math.max(0, (e.column ?? 1) - 1));
  const word = /^[\w$.-]+/.exec(doc.sliceString(from, line.to))?.[0].length ?? 0;
  return { from, to: word ? from + word : line.to, severity: 'error', message: e.path ? `${e.path}: ${e.message}` : e.message, source: 'session' };
}

/** Light colours on the dark stage (the default style's blues are unreadable on black). */
const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: '#7dffb0' },
  { tag: [tags.string, tags.special(tags.string)], color: '#ffe066' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: '#7ac7ff' },
  { tag: [tags.comment, tags.lineComment], color: '#9aa8a0', fontStyle: 'italic' },
  { tag: [tags.punctuation, tags.separator, tags.squareBracket, tags.brace], color: '#c8d3cc' },
  { tag: [tags.keyword, tags.meta, tags.labelName, tags.typeName], color: '#ff9ee6' },
  { tag: tags.content, color: '#ffffff' },
]);

const theme = EditorView.theme(
  {
    '&': { color: '#ffffff', backgroundColor: '#050807', height: '100%', fontSize: '15px' },
    '.cm-content': { caretColor: '#7dffb0', fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' },
    '.cm-gutters': { backgroundColor: '#0d1411', color: '#c8d3cc', border: 'none' },
    '.cm-activeLine': { backgroundColor: '#101c17' },
    '&.cm-focused .cm-cursor': { borderLeftColor: '#7dffb0' },
    '&.cm-focused .cm-selectionBackground, ::selection': { backgroundColor: '#24513b' },
    '.cm-scroller': { overflow: 'auto' },
    '.cm-tooltip': { backgroundColor: '#0d1411', color: '#ffffff', border: '1px solid #2a3530', maxWidth: '36rem' },
    '.cm-diagnostic-error': { borderLeftColor: '#ff8a7a' },
    '.cm-lintRange-error': { backgroundImage: 'none', textDecoration: 'underline wavy #ff8a7a' },
  },
  { dark: true },
);

export function createPatchEditor(host: HTMLElement, opts: EditorOptions): PatchEditor {
  const shadow = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  const mount = document.createElement('div');
  mount.className = 'cm-mount';
  shadow.replaceChildren(mount);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(':host { display: block; } .cm-mount { height: 100%; } .cm-editor { height: 100%; }');
  shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];

  let readOnly = false;
  const sessionLint = linter(async (view) => (await opts.validate(view.state.doc.toString())).map((e) => toDiagnostic(view.state, e)), { delay: 500 });
  const extensions = (ro: boolean) => [
    lineNumbers(),
    foldGutter(),
    lintGutter(),
    history(),
    drawSelection(),
    highlightActiveLine(),
    indentOnInput(),
    bracketMatching(),
    syntaxHighlighting(highlight),
    yaml(),
    yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
    autocompletion(),
    hoverTooltip(yamlSchemaHover()),
    stateExtensions(opts.schema),
    sessionLint,
    keymap.of([...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
    EditorState.readOnly.of(ro),
    EditorView.contentAttributes.of({ 'aria-label': 'Patch text', 'aria-multiline': 'true' }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) opts.onChange(u.state.doc.toString());
    }),
    theme,
  ];
  const view = new EditorView({ root: shadow, parent: mount, state: EditorState.create({ doc: '', extensions: extensions(false) }) });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text, ro) {
      readOnly = ro;
      view.setState(EditorState.create({ doc: text, extensions: extensions(readOnly) }));
      opts.onChange(text);
    },
    showErrors(errors) {
      view.dispatch(setDiagnostics(view.state, errors.map((e) => toDiagnostic(view.state, e))));
    },
    relint() {
      forceLinting(view);
    },
    destroy() {
      view.destroy();
    },
  };
}

import { useState, type FormEvent } from "react";

/** A labelled select: a first option for "none chosen" (value ""), then `options`. */
export function Choice<V extends string>({
  label,
  value,
  none,
  options,
  onChange,
  required,
}: {
  label: string;
  value: V | "";
  none: string;
  options: readonly (readonly [V, string])[];
  onChange: (value: V | "") => void;
  required?: boolean;
}) {
  return (
    <label>
      {label}
      <select required={required} value={value} onChange={(e) => onChange(e.target.value as V | "")}>
        <option value="">{none}</option>
        {options.map(([key, text]) => (
          <option key={key} value={key}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A search form: `onSearch` gets the trimmed text when submitted. */
export function SearchForm({ label, onSearch }: { label: string; onSearch: (text: string) => void }) {
  const [text, setText] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    onSearch(text.trim());
  }
  return (
    <form role="search" onSubmit={submit}>
      <label>
        {label}
        <input type="search" value={text} onChange={(e) => setText(e.target.value)} />
      </label>
      <button type="submit">Search</button>
    </form>
  );
}

/** Options naming the nodes of a connection (none while it loads). */
export function nodeOptions(connection?: { edges: { node: { id: string; name: string } }[] }): [string, string][] {
  return connection?.edges.map(({ node }) => [node.id, node.name]) ?? [];
}

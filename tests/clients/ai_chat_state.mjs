// The `ai` package's chat (AbstractChat) with plain in-memory state, as useChat keeps it.
import { AbstractChat } from "ai";

class PlainState {
  status = "ready";
  error = undefined;
  messages = [];
  pushMessage = (message) => {
    this.messages = [...this.messages, message];
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index, message) => {
    this.messages = this.messages.map((old, i) => (i === index ? message : old));
  };
  snapshot = (thing) => structuredClone(thing);
}

export class Chat extends AbstractChat {
  constructor(init) {
    super({ ...init, state: new PlainState() });
  }
}

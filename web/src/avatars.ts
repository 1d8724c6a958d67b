// Avatars for the two sides of the chat, inline so the page needs no image files.
const svg = (body: string): string =>
  `data:image/svg+xml;utf8,${encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">${body}</svg>`,
  )}`;

export const botAvatar = svg(
  '<circle cx="16" cy="16" r="16" fill="#0066cc"/>' +
    '<path d="M9 17h4l2-5 3 9 2-4h3" stroke="#fff" stroke-width="2" fill="none" stroke-linecap="round" stroke-linejoin="round"/>',
);

export const userAvatar = svg(
  '<circle cx="16" cy="16" r="16" fill="#6a6e73"/>' +
    '<circle cx="16" cy="12" r="5" fill="#fff"/><path d="M7 26c1.5-5 5-7 9-7s7.5 2 9 7" fill="#fff"/>',
);

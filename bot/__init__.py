"""Practice Bot: a chat-ops assistant for children's social work teams."""

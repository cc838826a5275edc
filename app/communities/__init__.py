"""Communities: one platform, many lobbies. Every board row belongs to one community
(models.CommunityScoped); scope.py is the one place that decides which community a
query reads and writes; routing.py decides which community a request is for."""
